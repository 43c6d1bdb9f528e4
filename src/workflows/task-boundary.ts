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
 */
import { condition, workflowInfo } from '@temporalio/workflow';

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
  // Conditions are evaluated after every job of every activation: this one never resolves, it only
  // makes sure each task's first activation is seen even while the workflow awaits something else.
  void condition(() => {
    decisionsAllowed();
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
