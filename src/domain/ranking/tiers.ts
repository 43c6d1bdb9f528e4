import type { DataSensitivity, InventoryAsset, Tier } from '../inventory';

/**
 * Tiers per product.md §3. Tier 1 is the attacker's front door: anything internet-facing, and the
 * roles whose job is to face users (load balancers, API gateways, public web apps, auth endpoints).
 * Tier 2 holds what an attacker wants next: data stores, queues, CI/CD runners, or any asset tagged
 * with high-sensitivity data. Tier 3 is everything else (monitoring, staging, tooling).
 */
const ROLE_ALIASES: Record<string, string> = {
  lb: 'load-balancer',
  alb: 'load-balancer',
  nlb: 'load-balancer',
  elb: 'load-balancer',
  loadbalancer: 'load-balancer',
  'reverse-proxy': 'load-balancer',
  apigateway: 'api-gateway',
  'api-gw': 'api-gateway',
  'auth-endpoint': 'auth',
  sso: 'auth',
  idp: 'auth',
  db: 'database',
  rds: 'database',
  'message-queue': 'queue',
  mq: 'queue',
  broker: 'queue',
  ci: 'ci-runner',
  'build-runner': 'ci-runner',
  'cicd-runner': 'ci-runner',
};

export const FRONT_DOOR_ROLES: ReadonlySet<string> = new Set(['load-balancer', 'api-gateway', 'public-web', 'auth']);
export const DATA_ROLES: ReadonlySet<string> = new Set(['database', 'queue', 'ci-runner']);

const ROLE_WORDS: Record<string, string> = {
  'load-balancer': 'load balancer',
  'api-gateway': 'API gateway',
  'public-web': 'public web app',
  auth: 'auth endpoint',
  database: 'database',
  queue: 'message queue',
  'ci-runner': 'CI/CD runner',
};

/** `Load Balancer`, `load_balancer`, `ALB` → `load-balancer`. */
export function normaliseRole(role: string): string {
  const key = role.trim().toLowerCase().replace(/[\s_]+/g, '-');
  return ROLE_ALIASES[key] ?? key;
}

export function roleWords(role: string): string {
  const normalised = normaliseRole(role);
  return ROLE_WORDS[normalised] ?? normalised;
}

export const SENSITIVITY_RANK: Record<DataSensitivity, number> = { high: 3, medium: 2, low: 1, none: 0 };

export interface TierDecision {
  tier: Tier;
  /** The part after `tier N: `, e.g. `behind internet-facing ALB web-prod`. */
  reason: string;
}

/** Why an internet-facing asset is exposed, as the reason reads it. */
export function exposurePhrase(asset: Pick<InventoryAsset, 'exposureVia'>): string {
  const via = asset.exposureVia;
  if (!via) return 'internet-facing';
  return /^internet-facing /i.test(via) ? `behind ${via}` : `internet-facing via ${via}`;
}

export function assetTier(asset: InventoryAsset): TierDecision {
  const role = normaliseRole(asset.role);
  if (asset.exposure === 'internet') {
    // The front door is always patched first: a label cannot move an internet-facing asset back.
    const overridden = asset.tier !== undefined && asset.tier !== 1 ? ` (overrides label tier ${asset.tier})` : '';
    return { tier: 1, reason: `${exposurePhrase(asset)}${overridden}` };
  }
  if (asset.tier !== undefined) return { tier: asset.tier, reason: `inventory label (${roleWords(role)}, internal)` };
  if (FRONT_DOOR_ROLES.has(role)) return { tier: 1, reason: `${roleWords(role)} (front door)` };
  if (DATA_ROLES.has(role)) {
    return { tier: 2, reason: `${roleWords(role)}, internal${asset.dataSensitivity === 'high' || asset.dataSensitivity === 'medium' ? `, ${asset.dataSensitivity}-sensitivity data` : ''}` };
  }
  if (asset.dataSensitivity === 'high') return { tier: 2, reason: `${roleWords(role)} holding high-sensitivity data` };
  return { tier: 3, reason: `${roleWords(role)}, internal${asset.dataSensitivity === 'none' ? ', no sensitive data' : `, ${asset.dataSensitivity}-sensitivity data`}` };
}
