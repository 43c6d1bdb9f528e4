/**
 * The inventory model: what the planner knows about each asset. The `sim` provider reads it from a
 * fleet file; the `aws` provider fills it from EC2 tags and Auto Scaling / target-group membership.
 */
export type Exposure = 'internet' | 'internal';
export type DataSensitivity = 'high' | 'medium' | 'low' | 'none';
export type Tier = 1 | 2 | 3;

export interface InventoryAsset {
  /** Node id: an EC2 instance id, or a simulator node id. */
  id: string;
  /** The set of interchangeable nodes behind one load balancer / auto-scaling group. */
  cluster: string;
  /** e.g. load-balancer, api-gateway, public-web, auth, database, queue, cache, ci-runner, monitoring, staging. */
  role: string;
  exposure: Exposure;
  dataSensitivity: DataSensitivity;
  /** Explicit tier label; the ranking planner derives it when absent. */
  tier?: Tier;
  /** Installed package name → version. */
  packages: Record<string, string>;
  /** Ids of assets or clusters this asset talks to. */
  dependsOn?: string[];
  /** Assets sharing a patch group must be patched as one block. */
  patchGroup?: string;
  /**
   * Asset or cluster ids that must be patched in the same block as this asset (matched client /
   * server versions) even without a shared patch group.
   */
  coupledWith?: string[];
  /**
   * Why the asset is internet-facing, as a phrase a human can check: `internet-facing ALB web-prod`,
   * `public IP 203.0.113.10`. Shown in plan reasons.
   */
  exposureVia?: string;
  osFamily?: string;
}
