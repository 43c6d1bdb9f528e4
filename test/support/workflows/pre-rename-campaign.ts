/**
 * A stand-in for a campaign on a worker older than the rename of the operator updates: it knows
 * `pauseCampaign` (and no `pause`). Its pause answers and records like the real one, and it refuses
 * a pause without a name, so a test can tell an answer from a refusal.
 */
import { condition, defineQuery, defineUpdate, setHandler } from '@temporalio/workflow';

export const pausedBy = defineQuery<string | null>('pausedBy');
const pauseCampaign = defineUpdate<string, [{ by?: string; reason?: string }]>('pauseCampaign');

export async function preRenameCampaignWorkflow(): Promise<void> {
  let by: string | null = null;
  setHandler(pausedBy, () => by);
  setHandler(
    pauseCampaign,
    (note) => {
      by = note.by!;
      return `paused by ${by}`;
    },
    {
      validator: (note) => {
        if (!note.by) throw new Error('pause needs --by');
      },
    },
  );
  await condition(() => false);
}
