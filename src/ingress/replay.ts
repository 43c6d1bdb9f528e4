/**
 * Replay protection shared by every `serve` replica and surviving their restarts: a signed delivery
 * is claimed in Temporal itself, as a *delivery receipt* — a workflow execution whose id is derived
 * from the signature. Temporal guarantees one running execution per workflow id in a namespace, so
 * the claim is atomic across replicas, and it lives as long as the Temporal server's persistence.
 *
 * A receipt never runs: it is started with a start delay longer than its execution timeout, so no
 * workflow task is ever scheduled (its history is Started, then TimedOut), no worker needs to know
 * its type, and nothing waits on any task queue. It stays running until the signature's timestamp
 * leaves the accepted window; past that, the timestamp check refuses the signature anyway. Why this
 * and not a shared directory or the campaign's update id: docs/ingress.md, "Replays".
 */
import { createHash } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';

/** The receipt's workflow type: never registered with a worker, never executed. */
export const DELIVERY_RECEIPT_TYPE = 'patchwaveDeliveryReceipt';
/** Task queue named on receipts; no worker polls it and no task is ever put on it. */
export const DELIVERY_RECEIPT_TASK_QUEUE = 'patchwave-intake-deliveries';

/**
 * Receipt id: the campaign task queue (replicas serving one fleet share it; separate deployments in
 * one namespace do not collide) and a digest of the signature (the id shows in the Temporal UI; a
 * digest says nothing about the body or the secret).
 */
export function deliveryReceiptId(taskQueue: string, signature: Buffer): string {
  return `intake-delivery:${taskQueue}:${createHash('sha256').update(signature).digest('hex').slice(0, 40)}`;
}

export interface ReplayGuard {
  /** 'fresh': first time seen anywhere, now claimed; 'replayed': another request (any replica) claimed it. */
  claim(signature: Buffer, expiresAtMs: number, nowMs: number): Promise<'fresh' | 'replayed'>;
  /** Gives the claim back after we failed to process the request (5xx), so the sender may retry it identically. */
  release(signature: Buffer): Promise<void>;
}

/** The shared guard: delivery receipts in Temporal. Errors (Temporal unreachable) propagate: the caller answers 503. */
export class TemporalReplayGuard implements ReplayGuard {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  async claim(signature: Buffer, expiresAtMs: number, nowMs: number): Promise<'fresh' | 'replayed'> {
    const ttlMs = Math.max(1_000, Math.ceil(expiresAtMs - nowMs));
    try {
      await this.client.workflow.start(DELIVERY_RECEIPT_TYPE, {
        workflowId: deliveryReceiptId(this.taskQueue, signature),
        taskQueue: DELIVERY_RECEIPT_TASK_QUEUE,
        args: [],
        // Times out before its first workflow task could ever be scheduled.
        workflowExecutionTimeout: ttlMs,
        startDelay: ttlMs + 3_600_000,
        // A running receipt refuses its twin; a terminated one (released after a 5xx) may be claimed again.
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        memo: { why: 'webhook replay protection: a signed delivery seen by patchwave serve (docs/ingress.md)' },
      });
      return 'fresh';
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return 'replayed';
      throw err;
    }
  }

  async release(signature: Buffer): Promise<void> {
    try {
      await this.client.workflow.getHandle(deliveryReceiptId(this.taskQueue, signature)).terminate('released: the delivery failed on our side (5xx) and may be retried');
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
}
