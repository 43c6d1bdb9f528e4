/**
 * A workflow interceptor module for replay tests: reports every child workflow the workflow starts,
 * with the history length of the activation that started it, through a sink that is called during
 * replay too. Bundled only by the tests that use it (see bundleWithChildStartRecorder).
 */
import { proxySinks, workflowInfo, type Sinks, type WorkflowInterceptorsFactory } from '@temporalio/workflow';

export interface ChildStartRecorderSinks extends Sinks {
  childStarts: { started(workflowId: string, historyLength: number): void };
}

const { childStarts } = proxySinks<ChildStartRecorderSinks>();

export const interceptors: WorkflowInterceptorsFactory = () => ({
  outbound: [
    {
      startChildWorkflowExecution(input, next) {
        childStarts.started(input.options.workflowId ?? '', workflowInfo().historyLength);
        return next(input);
      },
    },
  ],
});
