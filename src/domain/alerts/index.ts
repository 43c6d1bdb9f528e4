/** Alert intake: every accepted format normalised into the one alert model (src/domain/alert.ts). */
export { parseAlert, safeParseAlert, detectAlertFormat, ALERT_FORMAT_NAMES, type AlertFormat, type AlertParseResult } from './parse';
export { AlertValidationError, MAX_REPORTED_ISSUES, type AlertIssue } from './errors';
export { formatIssue } from '../issues';
export { ALERT_LIMITS, MAX_ITEMS, firstInvalidUtf8 } from './bounds';
export type { SkippedFinding } from './finding';
export { genericAlertSchema, genericAlertJsonSchema, type GenericAlert } from './generic';
export { inspectorEventSchema, inspectorFindingSchema } from './inspector';
export { asffFindingSchema, securityHubEventSchema, asffBatchSchema, SECURITY_HUB_FINDING_EVENTS } from './securityhub';
export { ocsfFindingSchema, securityHubV2EventSchema, OCSF_VULNERABILITY_FINDING } from './ocsf';
export { alertmanagerWebhookSchema, ALERTMANAGER_LABELS } from './alertmanager';
export { defaultKevPath, KEV_DIRECTORY, KEV_FILE_NAME } from './kev-path';
