/** Stand-in campaigns for controls sent after the end (their PatchwaveStatus is set when started). */
import { condition } from '@temporalio/workflow';

/** Ends at once. */
export async function endedCampaignWorkflow(): Promise<string> {
  return 'done';
}

/** Runs until terminated. */
export async function runningCampaignWorkflow(): Promise<void> {
  await condition(() => false);
}
