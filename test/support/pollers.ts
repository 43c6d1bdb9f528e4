/**
 * Who polls a task queue, from the server (DescribeTaskQueue on the workflow and activity queues).
 *
 * The server keeps a poller listed for minutes after its last poll (the matching service's poller
 * history), so a dead worker does not vanish from the list at once. What proves it is dead is that
 * its identity stops polling: its last access time stays before the moment it was killed while the
 * campaign keeps producing tasks.
 */
import type { Client } from '@temporalio/client';

/** TaskQueueKind NORMAL, TaskQueueType WORKFLOW / ACTIVITY (temporal.api.enums.v1). */
const KIND_NORMAL = 1;
const TYPES = [1, 2];

/** Identity → the latest poll the server saw from it (epoch ms), over the workflow and activity queues. */
export async function taskQueuePollers(client: Client, taskQueue: string): Promise<Map<string, number>> {
  const pollers = new Map<string, number>();
  for (const taskQueueType of TYPES) {
    const response = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: KIND_NORMAL },
      taskQueueType,
    });
    for (const p of response.pollers ?? []) {
      if (!p.identity) continue;
      const at = p.lastAccessTime ? Number(p.lastAccessTime.seconds ?? 0) * 1000 + Math.floor((p.lastAccessTime.nanos ?? 0) / 1e6) : 0;
      pollers.set(p.identity, Math.max(pollers.get(p.identity) ?? 0, at));
    }
  }
  return pollers;
}
