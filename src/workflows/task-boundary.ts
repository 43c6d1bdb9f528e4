/**
 * Decisions only at workflow-task boundaries.
 *
 * Why this exists (docs/reliability.md, "The nondeterminism after worker restarts"): a worker that
 * does not have a workflow cached and receives a *legacy query* (a query sent while a workflow task is
 * scheduled but not started, e.g. on the sticky queue of a worker that was just killed) is given the
 * whole history, including the events that arrived after the last completed workflow task. The SDK
 * applies those trailing events in an activation of their own, runs the workflow code, answers the
 * query and keeps the run cached. If the workflow decides anything there (starts children, upserts
 * search attributes), those commands are computed from a *part* of the next workflow task's events,
 * and they are the ones sent when the real task arrives with more events. A replay applies the whole
 * task at once and decides differently: nondeterminism, and a campaign stuck for good.
 *
 * The gate tells the two apart. `historySize` is read from the WorkflowTaskStarted event and only
 * changes when a new task starts; `historyLength` is the last event applied. In an activation that
 * ends at a task the server started (live or replayed) both move together; in the trailing-events
 * activation the length moves and the size does not. Workflow code waits on `decisionsAllowed()`
 * before anything that issues commands, so the decisions are made in the real task, with all of its
 * events, exactly as a replay makes them. Handlers may still update state there: state is not history.
 *
 * Deferring is not enough on its own (seen in the chaos suite's CI runs): the run stays cached on that
 * worker with the trailing events applied, and when the real task arrives it brings nothing new, so
 * the SDK completes it without running the workflow code at all. The deferred decision is then made
 * at some later task (a replay makes it at this one: nondeterminism), or never, if nothing else is
 * coming (a campaign idle for good with nothing running). So a run that sees such an activation fails
 * it: the SDK answers the query with that failure and drops the run from its cache (a query is not a
 * workflow task: nothing is recorded), and the real task replays the history whole and decides there.
 */
import { condition, workflowInfo } from '@temporalio/workflow';
import { EVENTS_PAST_TASK_MESSAGE } from './messages';

export interface TaskBoundary {
  /** True unless this activation applied events beyond the last workflow task the server started. */
  decisionsAllowed(): boolean;
  /** `condition` that resolves only at a task boundary: what a workflow waits on before it decides. */
  until(predicate: () => boolean, timeout?: number | string): Promise<boolean>;
  /** Resolves at once in a normal activation; in a trailing-events one, at the next real task. */
  settle(): Promise<void>;
}

/**
 * Call once, before the workflow's first `await`: it watches every activation from then on, so the
 * first activation of each workflow task (the one that ends at its WorkflowTaskStarted) is the one
 * that fixes the task's length.
 */
export function taskBoundary(): TaskBoundary {
  let sizeAtTask = -1;
  let lengthAtTask = -1;
  const decisionsAllowed = () => {
    const { historySize, historyLength } = workflowInfo();
    // A server that reports no history size gives nothing to tell by: behave as before.
    if (!historySize) return true;
    if (historySize !== sizeAtTask) {
      sizeAtTask = historySize;
      lengthAtTask = historyLength;
      return true;
    }
    return historyLength === lengthAtTask;
  };
  // Conditions are evaluated after every job of every activation: this one never resolves. It makes
  // sure each task's first activation is seen even while the workflow awaits something else, and it
  // fails an activation of trailing events (see above) at its first job; a plain Error fails the
  // activation, not the workflow.
  void condition(() => {
    if (!decisionsAllowed()) throw new Error(EVENTS_PAST_TASK_MESSAGE);
    return false;
  });
  const settle = async () => {
    if (!decisionsAllowed()) await condition(decisionsAllowed);
  };
  return {
    decisionsAllowed,
    async until(predicate, timeout) {
      if (timeout === undefined) {
        await condition(() => decisionsAllowed() && predicate());
        return true;
      }
      const met = await condition(() => decisionsAllowed() && predicate(), timeout);
      // A timer that fired among trailing events resolves the condition there: wait for the real task.
      await settle();
      return met;
    },
    settle,
  };
}
