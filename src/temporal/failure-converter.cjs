// The failure converter of encrypting workers and clients (DataConverter.failureConverterPath, loaded
// with require(), hence CommonJS): a failure's message and stack trace move into a payload, which the
// codec then encrypts. Without it, an activity's error ("patch on node i-0abc… failed") would sit in the
// history in plain text. Workflows decode such failures with the default converter, unchanged.
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
