import { PatchwaveError, summarizeIssues } from './errors';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { describeZodIssues } from './issues';
import type { DataSensitivity, Exposure, InventoryAsset, Tier } from './inventory';

/**
 * The inventory file (docs/inventory.md), YAML or JSON: what the `sim` provider reads and what the
 * AWS provider fills from tags. Either a list of assets in the InventoryAsset shape, or
 *
 *     version: 1
 *     clusters:            # defaults shared by a cluster's assets (optional)
 *       web-prod: { role: public-web, loadBalancer: { name: web-prod, scheme: internet-facing, type: alb } }
 *     assets:
 *       - { id: i-0a1, cluster: web-prod, osFamily: ubuntu, packages: { openssh-server: "1:8.9p1-3ubuntu0.6" } }
 *
 * Exposure may be given or derived: an internet-facing load balancer or a public IP makes an asset
 * internet-facing, and the reason is kept for the plan ("behind internet-facing ALB web-prod").
 */
const ID = /^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/;
const id = (what: string) => z.string().max(200).regex(ID, `${what}: letters, digits and . _ : / @ - (starting with a letter or digit)`);

/** YAML reads `openssl: 3.0` as the number 3: a version must be quoted, or it silently changes. */
const version = z.string({ error: (issue) => (typeof issue.input === 'number' ? 'a version string (quote it in YAML: "3.0" would be read as the number 3)' : 'a version string') }).min(1).max(200);

const loadBalancerSchema = z.union([
  z.string().min(1).max(200),
  z.strictObject({
    name: z.string().min(1).max(200),
    scheme: z.enum(['internet-facing', 'internal']).optional(),
    type: z.string().min(1).max(20).optional(),
  }),
]);

/** Fields an asset may take from its cluster's defaults. */
const sharedFields = {
  role: z.string().min(1).max(100).optional(),
  exposure: z.enum(['internet', 'internal']).optional(),
  loadBalancer: loadBalancerSchema.optional(),
  dataSensitivity: z.enum(['high', 'medium', 'low', 'none']).optional(),
  tier: z.union([z.literal(1), z.literal(2), z.literal(3)], { error: 'a tier 1, 2 or 3' }).optional(),
  osFamily: z.string().min(1).max(100).optional(),
  dependsOn: z.array(id('dependsOn')).max(1000).optional(),
  patchGroup: z.string().min(1).max(200).optional(),
  coupledWith: z.array(id('coupledWith')).max(1000).optional(),
  packages: z.record(z.string().min(1).max(200), version).optional(),
};

const clusterDefaultsSchema = z.strictObject(sharedFields);

const assetSchema = z.strictObject({
  id: id('id'),
  cluster: id('cluster'),
  ...sharedFields,
  publicIp: z.string().min(1).max(64).optional(),
  /** Accepted for round-trips of planner output; recomputed from the facts above when they say more. */
  exposureVia: z.string().max(200).optional(),
});

const MAX_ASSETS = 100_000;

export const inventoryFileSchema = z.union([
  z.array(assetSchema).max(MAX_ASSETS, `at most ${MAX_ASSETS} assets`),
  z.strictObject({
    version: z.literal(1, { error: 'version 1 (the only inventory format version)' }).optional(),
    clusters: z.record(id('cluster id'), clusterDefaultsSchema).optional(),
    assets: z.array(assetSchema).max(MAX_ASSETS, `at most ${MAX_ASSETS} assets`),
  }),
]);

export class InventoryFileError extends PatchwaveError {
  constructor(
    readonly source: string,
    readonly issues: string[],
  ) {
    super(`invalid inventory ${source}: ${summarizeIssues(issues)}`, 'bad-input');
  }
}

/** Parses inventory text (JSON or YAML) into assets. Throws `InventoryFileError` with field paths. */
export function parseInventoryText(text: string, source = '(inventory)'): InventoryAsset[] {
  let document: unknown;
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  try {
    // JSON first when it looks like JSON: faster on 10,000-asset files, and its errors name the position.
    document = trimmed.startsWith('{') || trimmed.startsWith('[') ? JSON.parse(trimmed) : parseYaml(trimmed, { maxAliasCount: 100 });
  } catch (err) {
    throw new InventoryFileError(source, [`not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  return parseInventory(document, source);
}

/** Validates a parsed inventory document and applies cluster defaults and exposure derivation. */
export function parseInventory(document: unknown, source = '(inventory)'): InventoryAsset[] {
  if (document === null || document === undefined) throw new InventoryFileError(source, ['(inventory): expected a list of assets or {assets: [...]}, got an empty document']);
  // Pick the branch by shape so errors speak about the form the author wrote, not a union of both.
  const schema = Array.isArray(document) ? inventoryFileSchema.options[0] : inventoryFileSchema.options[1];
  const parsed = schema.safeParse(document, { reportInput: true });
  if (!parsed.success) throw new InventoryFileError(source, describeZodIssues(parsed.error.issues, document));
  const file = Array.isArray(parsed.data) ? { assets: parsed.data, clusters: undefined } : parsed.data;
  const rootPath = Array.isArray(parsed.data) ? '' : 'assets';

  const issues: string[] = [];
  const seen = new Map<string, number>();
  const assets: InventoryAsset[] = [];
  file.assets.forEach((raw, index) => {
    const where = `${rootPath}[${index}] (${raw.id})`;
    const previous = seen.get(raw.id);
    if (previous !== undefined) {
      issues.push(`${where}.id: expected a unique asset id, got "${raw.id}" again (first at index ${previous})`);
      return;
    }
    seen.set(raw.id, index);
    const defaults = file.clusters?.[raw.cluster];
    if (file.clusters && !defaults) {
      const known = Object.keys(file.clusters).slice(0, 10).join(', ');
      issues.push(`${where}.cluster: expected a cluster defined under clusters (${known}), got "${raw.cluster}"`);
      return;
    }
    const merged = { ...defaults, ...raw, packages: { ...defaults?.packages, ...raw.packages } };
    const asset = buildAsset(merged, where, issues);
    if (asset) assets.push(asset);
  });
  if (issues.length > 0) throw new InventoryFileError(source, issues);
  return assets;
}

type MergedAsset = z.output<typeof assetSchema> & { packages: Record<string, string> };

function buildAsset(raw: MergedAsset, where: string, issues: string[]): InventoryAsset | undefined {
  if (!raw.role) {
    issues.push(`${where}.role: expected a role (load-balancer, api-gateway, public-web, auth, database, queue, cache, ci-runner, monitoring, staging, ...), got missing`);
    return undefined;
  }
  const exposure = deriveExposure(raw, where, issues);
  if (!exposure) return undefined;
  const asset: InventoryAsset = {
    id: raw.id,
    cluster: raw.cluster,
    role: raw.role,
    exposure: exposure.exposure,
    dataSensitivity: (raw.dataSensitivity ?? 'none') as DataSensitivity,
    ...(raw.tier !== undefined && { tier: raw.tier as Tier }),
    packages: raw.packages,
    ...(raw.dependsOn && raw.dependsOn.length > 0 && { dependsOn: [...raw.dependsOn] }),
    ...(raw.patchGroup && { patchGroup: raw.patchGroup }),
    ...(raw.coupledWith && raw.coupledWith.length > 0 && { coupledWith: [...raw.coupledWith] }),
    ...(exposure.via && { exposureVia: exposure.via }),
    ...(raw.osFamily && { osFamily: raw.osFamily }),
  };
  return asset;
}

/**
 * Facts beat labels, and a contradiction is an error rather than a guess: an asset declared internal
 * but behind an internet-facing load balancer must be fixed in the inventory.
 */
function deriveExposure(raw: MergedAsset, where: string, issues: string[]): { exposure: Exposure; via?: string } | undefined {
  const lb = typeof raw.loadBalancer === 'string' ? { name: raw.loadBalancer } : raw.loadBalancer;
  const lbScheme = lb && 'scheme' in lb ? lb.scheme : undefined;
  const lbType = lb && 'type' in lb && lb.type ? lb.type.toUpperCase() : 'load balancer';
  let evidence: string | undefined;
  if (lb && lbScheme === 'internet-facing') evidence = `internet-facing ${lbType} ${lb.name}`;
  else if (raw.publicIp) evidence = `public IP ${raw.publicIp}`;

  if (raw.exposure === 'internal' && evidence) {
    issues.push(`${where}.exposure: expected "internet" (the asset is reachable through ${evidence}), got "internal"`);
    return undefined;
  }
  if (evidence) return { exposure: 'internet', via: evidence };
  if (raw.exposure) return { exposure: raw.exposure, ...(raw.exposure === 'internet' && raw.exposureVia && { via: raw.exposureVia }) };
  if (lb && lbScheme === 'internal') return { exposure: 'internal' };
  issues.push(`${where}.exposure: expected "internet" or "internal" (or a loadBalancer with a scheme, or a publicIp), got missing`);
  return undefined;
}
