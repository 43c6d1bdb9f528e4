/**
 * What patchwave knows of a fleet, as plain data: the contracts between the workflows (which record
 * them), the activities (which fetch them) and the providers (which answer them). Here, in the
 * domain, so that workflow code never imports a provider; src/providers/port.ts builds the fleet
 * port on these.
 */

/** A node's software as installed now, read at the OS level (never from the patch command's exit code). */
export interface NodeManifest {
  nodeId: string;
  /** Installed package name → version. */
  packages: Record<string, string>;
  kernel: string;
  /** Critical config file path → checksum (sha256 hex). */
  configChecksums: Record<string, string>;
  /**
   * Services whose processes still map a file the package manager replaced or deleted (what
   * `needrestart` reports): the fix is on disk, not in memory. Absent: not checked by this provider.
   */
  staleServices?: string[];
  capturedAt: string;
}

/** One health check of one node (target health, status checks, health URL). */
export interface HealthSample {
  healthy: boolean;
  at: string;
  detail?: string;
}

/** What compensation restores a node from. */
export interface SnapshotRecord {
  /** Data volume snapshot ids. */
  snapshotIds: string[];
  /** Reference to the saved configuration (launch template version, instance settings, config files). */
  configRef: string;
  createdAt: string;
}

/** `targeted`: exactly the alert's packages at or above their fixed versions; `baseline`: the node's whole patch baseline. */
export type Remediation = 'targeted' | 'baseline';

/** A metric a provider may or may not be able to measure (`latency` covers p50 and p99). */
export type MetricName = 'errorRate' | 'latency' | 'connections';

/** One cluster's traffic numbers, as the tier gate compares them. */
export interface MetricsSample {
  clusterId: string;
  /** Fraction of requests failing, 0..1. */
  errorRate: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  connections: number;
  /**
   * Which of the numbers above were actually measured. Absent: all of them. A provider that cannot
   * measure one (AWS without CloudWatch: latency, connections) reports it as 0 and leaves it out here,
   * so the tier gate never compares a placeholder 0 with anything.
   */
  measured?: MetricName[];
}

/** A metrics sample as a provider reads it, with when. */
export interface ClusterMetrics extends MetricsSample {
  at: string;
}
