// The failure converter of encrypting workers and clients (DataConverter.failureConverterPath, loaded
// with require(), hence CommonJS): a failure's message and stack trace move into a payload, which the
// codec then encrypts. Without it, an activity's error ("patch on node i-0abc… failed") would sit in the
// history in plain text. Workflows decode such failures with the default converter, unchanged.
//
// One exception: a CodecKeyError (a payload under a key this process lacks) stays plain. It names only
// key ids, and encrypting it would hide "which key is missing" from everyone who has the right key.
const { DefaultFailureConverter } = require('@temporalio/common');

class PatchwaveFailureConverter extends DefaultFailureConverter {
  constructor() {
    super({ encodeCommonAttributes: true });
    this.plain = new DefaultFailureConverter({ encodeCommonAttributes: false });
  }

  errorToFailure(err, payloadConverter) {
    if (err && err.name === 'CodecKeyError') return this.plain.errorToFailure(err, payloadConverter);
    return super.errorToFailure(err, payloadConverter);
  }
}

exports.failureConverter = new PatchwaveFailureConverter();
