/**
 * The EC2 tags the AWS provider reads and writes — one list, documented in docs/aws.md. Reading is
 * strict: a tag with a value outside its vocabulary is an error naming the instance, the tag and
 * the allowed values, because a silently ignored `patchwave:exposure=Internet` would rank a public
 * node as internal.
 */
import type { DataSensitivity, Exposure, Tier } from '../../domain/inventory';
import { ProviderError } from '../port';

/** Tags an operator sets on instances (or as PropagateAtLaunch tags on the Auto Scaling group). */
export const READ_TAGS = {
  /** `true` opts the instance in; nothing else is ever listed. */
  managed: 'patchwave:managed',
  /** Cluster id; default: the Auto Scaling group name, else the first target group name, else the instance id. */
  cluster: 'patchwave:cluster',
  role: 'patchwave:role',
  /** `internet` | `internal`; default: derived (behind an internet-facing load balancer, or a public IP → internet). */
  exposure: 'patchwave:exposure',
  /** `high` | `medium` | `low` | `none`; default `none`. */
  dataSensitivity: 'patchwave:data-sensitivity',
  /** `1` | `2` | `3`; default: the planner derives it. */
  tier: 'patchwave:tier',
  /** Assets sharing a patch group are patched as one block. */
  patchGroup: 'patchwave:patch-group',
  /** Comma-separated asset or cluster ids this instance talks to. */
  dependsOn: 'patchwave:depends-on',
  /** Comma-separated asset or cluster ids that must be patched in the same block (matched client/server versions). */
  coupledWith: 'patchwave:coupled-with',
  /** Target groups (names or ARNs, comma-separated) the instance is registered in outside its Auto Scaling group. */
  targetGroups: 'patchwave:target-groups',
  /** Comma-separated absolute paths of the critical config files the manifest checksums. */
  configFiles: 'patchwave:config-files',
  /** Health URL template, e.g. `http://{privateIp}:8080/healthz`; placeholders: privateIp, publicIp, instanceId. */
  healthUrl: 'patchwave:health-url',
  /** Overrides the OS family derived from the platform (`linux`, `windows`). */
  osFamily: 'patchwave:os-family',
  /** `patchwave:pkg:<name>` = installed version, when packages come from tags. */
  packagePrefix: 'patchwave:pkg:',
} as const;

/** Tags the provider writes, so an operator can see in the console what patchwave did and why. */
export const WRITE_TAGS = {
  /** On snapshots and volumes: hash of the step's idempotency key (the look-before-acting handle). */
  stepKey: 'patchwave:step-key',
  cve: 'patchwave:cve',
  campaign: 'patchwave:campaign',
  node: 'patchwave:node',
  /** On snapshots: the date (YYYY-MM-DD) after which the snapshot may be deleted. */
  retainUntil: 'patchwave:retain-until',
  /** On snapshots: the device the volume was attached as, for the restore. */
  device: 'patchwave:device',
  /** On snapshots: the launch template and version the node's group used (`lt-0abc:7`). */
  launchTemplate: 'patchwave:launch-template',
  autoScalingGroup: 'patchwave:asg',
  /** On instances while out of service for a campaign. */
  drainedBy: 'patchwave:drained-by',
  drainedAt: 'patchwave:drained-at',
  /** `<target group ARN suffix>@<port>;...`: where to register the instance again on rejoin. */
  drainedTargets: 'patchwave:drained-targets',
  quarantine: 'patchwave:quarantine',
  quarantinedAt: 'patchwave:quarantined-at',
  /** On volumes replaced by a restore: the volume that took their place (they are kept, never deleted). */
  replacedBy: 'patchwave:replaced-by',
} as const;

export type TagList = { Key?: string; Value?: string }[] | undefined;

export function tagMap(tags: TagList): Map<string, string> {
  const map = new Map<string, string>();
  for (const tag of tags ?? []) if (tag.Key !== undefined) map.set(tag.Key, tag.Value ?? '');
  return map;
}

/** EC2 tag values are at most 256 characters. */
export function tagValue(value: string): string {
  return value.length <= 256 ? value : `${value.slice(0, 255)}…`;
}

export function csv(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function oneOf<T extends string>(instanceId: string, key: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || value === '') return undefined;
  const normalized = value.trim().toLowerCase();
  if ((allowed as readonly string[]).includes(normalized)) return normalized as T;
  throw new ProviderError('bad-input', `instance ${instanceId}: tag ${key}=${JSON.stringify(value)} is not one of ${allowed.join(', ')}; fix the tag`);
}

export function readExposure(instanceId: string, tags: Map<string, string>): Exposure | undefined {
  return oneOf(instanceId, READ_TAGS.exposure, tags.get(READ_TAGS.exposure), ['internet', 'internal'] as const);
}

export function readSensitivity(instanceId: string, tags: Map<string, string>): DataSensitivity | undefined {
  return oneOf(instanceId, READ_TAGS.dataSensitivity, tags.get(READ_TAGS.dataSensitivity), ['high', 'medium', 'low', 'none'] as const);
}

export function readTier(instanceId: string, tags: Map<string, string>): Tier | undefined {
  const value = oneOf(instanceId, READ_TAGS.tier, tags.get(READ_TAGS.tier), ['1', '2', '3'] as const);
  return value === undefined ? undefined : (Number(value) as Tier);
}

export function packagesFromTags(tags: Map<string, string>): Record<string, string> {
  const packages: Record<string, string> = {};
  for (const [key, value] of tags) {
    if (key.startsWith(READ_TAGS.packagePrefix) && value) packages[key.slice(READ_TAGS.packagePrefix.length)] = value;
  }
  return packages;
}

/**
 * Config file paths go into a shell script: only plain absolute paths are accepted, so quoting can
 * never be escaped.
 */
export function checkConfigPath(instanceId: string, path: string): string {
  if (!/^\/[A-Za-z0-9._/+@-]+$/.test(path) || path.includes('..')) {
    throw new ProviderError('bad-input', `instance ${instanceId}: config file path ${JSON.stringify(path)} must be absolute and use only letters, digits and . _ / + @ -; fix ${READ_TAGS.configFiles} or the provider's configFiles`);
  }
  return path;
}
