/** The workflow bundle's entry point: every workflow type the worker registers. */
export { patchCampaignWorkflow } from './patch-campaign';
export { patchNodeWorkflow } from './patch-node';
export { clusterLeaseWorkflow } from './cluster-lease';
