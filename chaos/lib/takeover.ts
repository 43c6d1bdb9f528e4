/**
 * The takeover experiment: the one sequence behind the campaigns that stalled or failed replay after
 * worker kills (docs/reliability.md, "A worker that takes over a campaign"), made to happen on purpose
 * instead of by chance.
 *
 * The campaign is paused until nothing runs, so nothing else can happen later; its worker is
 * SIGKILLed, an operator's `resume` arrives as a signal, and a new worker starts. The resume's
 * workflow task waits on the dead worker's sticky queue (until Temporal's sticky timeout), and every
 * status query meanwhile goes to the new worker, which does not have the campaign cached: it replays
 * the history including the resume that no task has seen yet. Code that keeps that run cached never decides on the resume
 * (the real task brings the worker nothing new, so the workflow code does not run): the campaign
 * waits for good with nothing in flight. Today's code refuses those queries, and the task decides.
 */
import { campaignStatus, operate } from '../../src/client/campaigns';
import { EVENTS_PAST_TASK_MESSAGE, resumeSignal, statusQuery } from '../../src/workflows/messages';
import { sleep } from './random';
import type { Experiment, ExperimentContext } from './run';

/** Longer than Temporal's sticky schedule-to-start timeout (10 s), and the new worker's first replays. */
const QUERY_WINDOW_MS = 30_000;

async function until(ctx: ExperimentContext, what: string, met: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await met().catch(() => false))) {
    if (!ctx.running()) throw new Error(`the campaign closed while waiting until ${what}`);
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

export const takeover: Experiment = {
  name: 'takeover',
  description: 'paused with nothing in flight, the worker SIGKILLed, resume sent as a signal while status is queried every 250 ms, a new worker',
  async inject(ctx) {
    const handle = ctx.env.client.workflow.getHandle(ctx.campaignId);
    await until(ctx, 'two nodes patched', async () => (await campaignStatus(ctx.env.client, ctx.campaignId)).counts.patched >= 2, 120_000);
    await operate(ctx.env.client, ctx.campaignId, 'pause', { by: 'chaos-operator', reason: 'chaos: takeover' });
    ctx.fault('paused');
    await until(ctx, 'paused with nothing running', async () => {
      const s = await campaignStatus(ctx.env.client, ctx.campaignId);
      return s.phase === 'paused' && s.counts.running === 0;
    }, 120_000);
    const victim = ctx.env.workers[0]!;
    const killed = await ctx.env.killWorker(victim);
    ctx.fault(`SIGKILL worker pid ${victim.pid}, the campaign idle`);
    // Temporal sends a query for a campaign whose last worker is gone to that worker's sticky queue
    // first, for up to the sticky timeout (10 s); then to the normal queue with the history as it is
    // by then. So: queries now, the resume while they wait, and a new worker before they move on. The
    // worker is handed such a query (a legacy query: the whole history, the resume included) before
    // the resume's own task, which waits out the same timeout on the dead worker's queue.
    const seen = { refused: 0, answered: 0, other: 0, answeredAfterRefusal: false };
    const ask = async () => {
      try {
        await ctx.env.connection.withDeadline(Date.now() + 30_000, () => handle.query(statusQuery));
        seen.answered++;
        if (seen.refused > 0) seen.answeredAfterRefusal = true;
      } catch (err) {
        if ((err as Error).message.includes(EVENTS_PAST_TASK_MESSAGE)) seen.refused++;
        else seen.other++;
      }
    };
    const asked: Promise<void>[] = [];
    const askFor = async (ms: number) => {
      for (const end = Date.now() + ms; Date.now() < end && !seen.answeredAfterRefusal; await sleep(250)) asked.push(ask());
    };
    await askFor(2_000);
    await handle.signal(resumeSignal, { by: 'chaos-operator', reason: 'chaos: takeover' });
    ctx.fault('resume sent as a signal, status queried every 250 ms');
    await Promise.all([askFor(QUERY_WINDOW_MS), ctx.env.startWorker().then(() => ctx.env.checkSilent(killed))]);
    await Promise.all(asked);
    ctx.fault(`status queries after the resume: ${seen.refused} refused (takeover), ${seen.answered} answered, ${seen.other} failed otherwise`);
    // Without a refusal the new worker answered from a run it kept cached: the sequence this exists
    // for did not happen (or the code no longer guards it), and a passing verdict would prove nothing.
    if (seen.refused === 0) throw new Error(`no status query was refused as a takeover (${seen.answered} answered, ${seen.other} failed otherwise): the new worker kept the campaign cached past its last workflow task`);
  },
};
