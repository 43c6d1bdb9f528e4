/**
 * SSM Run Command with idempotency. SendCommand has no client token, so the step's idempotency key
 * travels in the command's Comment (as a hash: comments are limited to 100 characters) and every
 * send looks first with ListCommands for a command of the same document carrying that hash. A retried
 * activity thus finds the command its previous attempt started instead of patching twice.
 */
import { createHash } from 'node:crypto';
import {
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type Command,
  type GetCommandInvocationCommandOutput,
} from '@aws-sdk/client-ssm';
import { ProviderError, type PatchStatus } from '../port';
import type { AwsClients } from './clients';
import { awsSend, hasCode } from './errors';
import { pollUntil } from './wait';

/** 32 hex characters of sha256: stable per key, short enough for comments, tags and client tokens. */
export function keyHash(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
}

export function commandComment(label: string, cveId: string, idempotencyKey: string): string {
  return `patchwave ${cveId} ${label} k:${keyHash(idempotencyKey)}`.slice(0, 100);
}

/**
 * The commands this key already started on this instance, newest first. ListCommands keeps 30 days
 * of history; the look-up stops after `maxPages` pages (50 commands each) so a very busy instance
 * cannot make it unbounded — a key older than that has long been superseded.
 */
export async function findKeyedCommands(
  clients: AwsClients,
  instanceId: string,
  documentName: string,
  idempotencyKey: string,
  signal?: AbortSignal,
  maxPages = 10,
): Promise<Command[]> {
  const marker = `k:${keyHash(idempotencyKey)}`;
  const found: Command[] = [];
  let NextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const out = await awsSend(
      clients.ssm,
      'ssm',
      new ListCommandsCommand({ InstanceId: instanceId, Filters: [{ key: 'DocumentName', value: documentName }], MaxResults: 50, NextToken }),
      `commands of ${instanceId}`,
      signal,
    );
    found.push(...(out.Commands ?? []).filter((c) => c.DocumentName === documentName && (c.Comment ?? '').includes(marker)));
    NextToken = out.NextToken;
    if (!NextToken) break;
  }
  return found.sort((a, b) => (b.RequestedDateTime?.getTime() ?? 0) - (a.RequestedDateTime?.getTime() ?? 0));
}

export interface KeyedCommand {
  instanceId: string;
  documentName: string;
  parameters: Record<string, string[]>;
  comment: string;
  idempotencyKey: string;
  /** Seconds SSM waits for the agent to pick the command up before `DeliveryTimedOut`. */
  deliveryTimeoutSeconds: number;
  /**
   * `any`: an earlier command under this key is the answer, whatever its outcome (a patch is never
   * sent twice). `unless-failed`: a failed earlier run is ignored and the command sent again (reads).
   */
  reuse: 'any' | 'unless-failed';
}

const REUSABLE_AFTER_FAILURE = new Set(['Pending', 'InProgress', 'Success']);

/** Sends the command unless this key already did; returns the command id either way. */
export async function sendKeyedCommand(clients: AwsClients, command: KeyedCommand, signal?: AbortSignal): Promise<{ commandId: string; reused: boolean }> {
  const earlier = await findKeyedCommands(clients, command.instanceId, command.documentName, command.idempotencyKey, signal);
  const existing = command.reuse === 'any' ? earlier[0] : earlier.find((c) => REUSABLE_AFTER_FAILURE.has(c.Status ?? ''));
  if (existing?.CommandId) return { commandId: existing.CommandId, reused: true };
  const out = await awsSend(
    clients.ssm,
    'ssm',
    new SendCommandCommand({
      DocumentName: command.documentName,
      // Instance ids, never Targets: a tag target could reach nodes outside the plan's availability cap.
      InstanceIds: [command.instanceId],
      Parameters: command.parameters,
      Comment: command.comment,
      TimeoutSeconds: command.deliveryTimeoutSeconds,
      MaxConcurrency: '1',
      MaxErrors: '0',
    }),
    `${command.documentName} on ${command.instanceId}`,
    signal,
  );
  const commandId = out.Command?.CommandId;
  if (!commandId) throw new ProviderError('unavailable', `ssm:SendCommand for ${command.instanceId} returned no command id; retrying`);
  return { commandId, reused: false };
}

const IN_FLIGHT = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling']);

/** Maps an invocation to the port's three states; a failure's detail carries status and the output tail. */
export function invocationStatus(inv: GetCommandInvocationCommandOutput): PatchStatus {
  const status = inv.Status ?? 'Pending';
  if (IN_FLIGHT.has(status)) return { state: 'InProgress' };
  const out = (inv.StandardOutputContent ?? '').trim();
  if (status === 'Success') return { state: 'Success', detail: out ? tail(out, 500) : undefined };
  const err = (inv.StandardErrorContent ?? '').trim();
  const parts = [`${status}${inv.StatusDetails && inv.StatusDetails !== status ? ` (${inv.StatusDetails})` : ''}`];
  if (inv.ResponseCode !== undefined && inv.ResponseCode !== -1) parts.push(`exit code ${inv.ResponseCode}`);
  if (err) parts.push(`stderr: ${tail(err, 600)}`);
  else if (out) parts.push(`stdout: ${tail(out, 600)}`);
  return { state: 'Failed', detail: parts.join('; ') };
}

function tail(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(-max)}`;
}

/**
 * One look at an invocation. `InvocationDoesNotExist` right after SendCommand is documented eventual
 * consistency, so it reads as still in progress; the caller's deadline bounds it.
 */
export async function getInvocation(
  clients: AwsClients,
  commandId: string,
  instanceId: string,
  pluginName: string | undefined,
  signal?: AbortSignal,
): Promise<GetCommandInvocationCommandOutput | undefined> {
  try {
    return await awsSend(
      clients.ssm,
      'ssm',
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId, PluginName: pluginName }),
      `command ${commandId} on ${instanceId}`,
      signal,
    );
  } catch (err) {
    if (hasCode(err, 'InvocationDoesNotExist')) return undefined;
    throw err;
  }
}

/** Waits until the invocation is terminal and returns it (success or not: the caller decides). */
export async function waitForInvocation(
  clients: AwsClients,
  commandId: string,
  instanceId: string,
  options: { timeoutMs: number; intervalMs: number; signal?: AbortSignal; what: string },
): Promise<GetCommandInvocationCommandOutput> {
  return pollUntil(
    async () => {
      const inv = await getInvocation(clients, commandId, instanceId, undefined, options.signal);
      if (inv && !IN_FLIGHT.has(inv.Status ?? 'Pending')) return { done: true, value: inv };
      return { done: false, state: inv?.Status ?? 'not yet visible' };
    },
    {
      timeoutMs: options.timeoutMs,
      intervalMs: options.intervalMs,
      signal: options.signal,
      timeoutMessage: (state) =>
        `${options.what}: command ${commandId} on ${instanceId} is still ${state} after ${Math.round(options.timeoutMs / 1000)}s; is the SSM Agent online (Fleet Manager) and the node reachable?`,
    },
  );
}
