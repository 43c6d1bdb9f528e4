/**
 * Every SDK call of the AWS provider goes through `awsSend`: it passes the activity's AbortSignal,
 * and turns an SDK failure into a `ProviderError` whose kind decides whether Temporal retries and
 * whose message names the resource, the IAM action and what to fix.
 */
import { ProviderError, type ProviderErrorKind } from '../port';

/** The IAM service prefix of each client, as used in policies (`ec2:DescribeInstances`). */
export type AwsService = 'ec2' | 'autoscaling' | 'elasticloadbalancing' | 'ssm' | 's3';

interface SendsCommands {
  // The SDK's `send` is heavily overloaded; this is the shape we use.
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/** The output type of an SDK v3 command, read off its middleware handler. */
type OutputOf<C> = C extends { resolveMiddleware(...args: any[]): (...a: any[]) => Promise<{ output: infer O }> } ? O : never;

/** `DescribeInstancesCommand` → `DescribeInstances`: the IAM action of a command. */
export function actionOf(command: object): string {
  return command.constructor.name.replace(/Command$/, '');
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  // Auto Scaling: another scaling activity or update holds the group; it clears by itself.
  'ScalingActivityInProgress',
  'ResourceContention',
]);

const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'AuthFailure',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'OptInRequired',
  'ExpiredToken',
  'ExpiredTokenException',
  'MissingAuthenticationToken',
]);

const NOT_FOUND = /(NotFound|DoesNotExist|^InvalidCommandId$|^InvalidTarget$|NotFoundException)/;
const BAD_INPUT = new Set([
  'ValidationError',
  'ValidationException',
  'InvalidParameter',
  'InvalidParameterValue',
  'InvalidParameterValues',
  'InvalidParameterCombination',
  'MissingParameter',
  'InvalidInput',
  'InvalidFilter',
  'InvalidDocument',
  'InvalidParameters',
  'InvalidInstanceID.Malformed',
  'InvalidSnapshotID.Malformed',
  'InvalidVolumeID.Malformed',
  'InvalidClientToken',
  'IdempotentParameterMismatch',
]);
const CONFLICT = new Set([
  'IncorrectState',
  'IncorrectInstanceState',
  'InvalidInstanceId', // SSM: the instance is not managed (no agent, no instance profile) or not running
  'InvalidVolume.ZoneMismatch',
  'VolumeInUse',
  'ResourceInUse',
  'ResourceInUseFault',
  'LimitExceeded',
  'LimitExceededFault',
  'TooManyTargets',
  'InvalidPluginName',
  'UnsupportedPlatformType',
]);

interface AwsErrorShape {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number; requestId?: string };
}

/** What the operator should do, by kind; the IAM hint names the exact action. */
function advice(kind: ProviderErrorKind, service: AwsService, action: string, code: string): string {
  switch (kind) {
    case 'access-denied':
      return ACCESS_DENIED.has(code) && /Token|Signature|Client|Auth/.test(code)
        ? 'check the credentials the worker resolves from the AWS chain (profile, role, region)'
        : `grant ${service}:${action} to the worker's role (docs/aws-iam-policy.json lists every action the provider needs)`;
    case 'not-found':
      return 'the resource is gone or in another region/account: refresh the inventory or skip the node';
    case 'bad-input':
      return 'fix the request (tags, scope, ids) — retrying will not help';
    case 'conflict':
      return code === 'InvalidInstanceId'
        ? 'the instance is not a running SSM managed node: check that the SSM Agent runs and the instance profile allows it (AmazonSSMManagedInstanceCore)'
        : 'the resource is in a state that forbids this call; look at it in the console before retrying';
    default:
      return 'retrying';
  }
}

export function classifyAwsError(err: unknown): { kind: ProviderErrorKind; code: string } {
  const e = (err ?? {}) as AwsErrorShape;
  const code = e.name ?? e.Code ?? e.code ?? 'Unknown';
  const status = e.$metadata?.httpStatusCode;
  if (THROTTLING.has(code) || status === 429) return { kind: 'throttled', code };
  if (ACCESS_DENIED.has(code)) return { kind: 'access-denied', code };
  if (BAD_INPUT.has(code)) return { kind: 'bad-input', code };
  if (CONFLICT.has(code)) return { kind: 'conflict', code };
  if (NOT_FOUND.test(code)) return { kind: 'not-found', code };
  if (code === 'TimeoutError' || code === 'RequestTimeout' || code === 'ETIMEDOUT') return { kind: 'timeout', code };
  if (e.$fault === 'server' || (status !== undefined && status >= 500)) return { kind: 'unavailable', code };
  if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'NetworkingError'].includes(code)) {
    return { kind: 'unavailable', code };
  }
  if (e.$fault === 'client' || (status !== undefined && status >= 400)) return { kind: 'bad-input', code };
  // No HTTP answer at all (socket errors without a code): treat as the network, which retries.
  return { kind: 'unavailable', code };
}

export function isAbort(err: unknown): boolean {
  return (err as Error | undefined)?.name === 'AbortError';
}

/** Converts an SDK failure into a `ProviderError`; an abort is re-thrown untouched. */
export function toProviderError(err: unknown, service: AwsService, action: string, what: string): unknown {
  if (err instanceof ProviderError || isAbort(err)) return err;
  const { kind, code } = classifyAwsError(err);
  const detail = (err as Error | undefined)?.message ?? String(err);
  const requestId = (err as AwsErrorShape | undefined)?.$metadata?.requestId;
  const message = `${service}:${action} on ${what} failed with ${code}: ${detail}${requestId ? ` (request ${requestId})` : ''} — ${advice(kind, service, action, code)}`;
  return new ProviderError(kind, message, { cause: err });
}

/**
 * Sends one command. `what` names the resource for the error message (`instance i-0abc`), never a
 * secret: messages end up in workflow histories.
 */
export async function awsSend<C extends { input: object; resolveMiddleware(...args: any[]): any }>(
  client: SendsCommands,
  service: AwsService,
  command: C,
  what: string,
  signal?: AbortSignal,
): Promise<OutputOf<C>> {
  try {
    return await client.send(command, signal ? { abortSignal: signal } : undefined);
  } catch (err) {
    throw toProviderError(err, service, actionOf(command), what);
  }
}

/** True when an SDK error (already classified or not) carries one of these codes. */
export function hasCode(err: unknown, ...codes: string[]): boolean {
  const cause = err instanceof ProviderError ? (err.cause as AwsErrorShape | undefined) : (err as AwsErrorShape | undefined);
  const code = cause?.name ?? cause?.Code ?? cause?.code;
  return code !== undefined && codes.includes(code);
}
