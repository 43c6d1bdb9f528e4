import type { AffectedPackage, NormalizedAlert } from '../alert';
import type { InventoryAsset } from '../inventory';
import { compareVersions, ecosystemForOsFamily, isFixed, type Ecosystem } from '../versions';

/**
 * Is an asset affected? Its installed version is below the fixed version under its ecosystem's
 * rules, or the finding names it and the inventory cannot contradict that. Version evidence wins
 * over naming: a node the inventory shows at the fixed version is not patched again.
 */
export type AssetMatch =
  | {
      affected: true;
      /** The packages that make it affected, with what is installed (absent when only named). */
      vulnerable: { name: string; installed?: string; fixedVersion: string; ecosystem: Ecosystem }[];
      /** The finding names this node. */
      named: boolean;
    }
  | { affected: false; reason: string };

/** The comparison rules for one package on one node: the alert's, else the node's OS family's. */
export function ecosystemFor(pkg: Pick<AffectedPackage, 'ecosystem'>, asset: Pick<InventoryAsset, 'osFamily'>): Ecosystem {
  return pkg.ecosystem ?? ecosystemForOsFamily(asset.osFamily) ?? 'generic';
}

/**
 * The alert's packages as they apply to one node: one entry per package name, with the fixed
 * version reported for this node when findings disagreed, and the ecosystem resolved. The workflows
 * can verify a node against exactly this list.
 */
export function applicablePackages(alert: Pick<NormalizedAlert, 'packages'>, asset: InventoryAsset): (AffectedPackage & { ecosystem: Ecosystem })[] {
  const byName = new Map<string, AffectedPackage[]>();
  for (const pkg of alert.packages) {
    const list = byName.get(pkg.name) ?? [];
    list.push(pkg);
    byName.set(pkg.name, list);
  }
  const out: (AffectedPackage & { ecosystem: Ecosystem })[] = [];
  for (const [name, entries] of byName) {
    // The fixed version reported for this node, else those meant for every node, else any.
    const forThisNode = entries.filter((p) => p.resourceIds?.includes(asset.id));
    const general = entries.filter((p) => !p.resourceIds);
    const pool = forThisNode.length > 0 ? forThisNode : general.length > 0 ? general : entries;
    // Distribution releases ship different upstream versions (Ubuntu 22.04 openssh 8.9p1, 24.04
    // 9.6p1), each with its own fixed build: compare with the entry on the node's own upstream line;
    // failing that, with the lowest fixed version, below which the node is vulnerable on any release.
    const installed = asset.packages[name];
    const sameLine = installed === undefined ? [] : pool.filter((p) => upstreamOf(p.fixedVersion) === upstreamOf(installed));
    const candidates = sameLine.length > 0 ? sameLine : pool;
    const chosen = candidates.reduce((low, p) => (compareVersions(p.fixedVersion, low.fixedVersion, ecosystemFor(p, asset)) < 0 ? p : low));
    out.push({ name, fixedVersion: chosen.fixedVersion, ecosystem: ecosystemFor(chosen, asset) });
  }
  return out;
}

/** `1:8.9p1` from `1:8.9p1-3ubuntu0.10`: the version without its distribution revision / release. */
export function upstreamOf(version: string): string {
  const trimmed = version.trim().replace(/^0:/, '');
  const hyphen = trimmed.lastIndexOf('-');
  return hyphen > 0 ? trimmed.slice(0, hyphen) : trimmed;
}

/**
 * A dpkg advisory says nothing about an rpm node's build, and the reverse: the fixed version of
 * one package family is not compared with the other's.
 */
function advisoryFamilyMismatch(pkg: Pick<AffectedPackage, 'ecosystem'>, asset: Pick<InventoryAsset, 'osFamily'>): string | undefined {
  const nodeEcosystem = ecosystemForOsFamily(asset.osFamily);
  if (!pkg.ecosystem || !nodeEcosystem) return undefined;
  const families = new Set<Ecosystem>(['dpkg', 'rpm']);
  if (families.has(pkg.ecosystem) && families.has(nodeEcosystem) && pkg.ecosystem !== nodeEcosystem) {
    return `the advisory's fixed version is a ${pkg.ecosystem} version, the node runs ${asset.osFamily} (${nodeEcosystem})`;
  }
  return undefined;
}

/**
 * Fills in the package family of advisories that do not state it (ASFF carries no OS platform):
 * the fixed version was reported for the nodes the finding names, so it is a version of their
 * package family — when the inventory knows their OS and they agree. Otherwise left unknown.
 */
export function withAdvisoryEcosystems(alert: NormalizedAlert, inventory: readonly InventoryAsset[]): NormalizedAlert {
  if (alert.packages.every((p) => p.ecosystem)) return alert;
  const byId = new Map(inventory.map((a) => [a.id, a]));
  const familyOf = (ids: readonly string[] | undefined): Ecosystem | undefined => {
    const families = new Set((ids ?? []).flatMap((id) => ecosystemForOsFamily(byId.get(id)?.osFamily) ?? []));
    return families.size === 1 ? [...families][0] : undefined;
  };
  const alertFamily = familyOf(alert.resourceIds);
  return {
    ...alert,
    packages: alert.packages.map((p) => {
      if (p.ecosystem) return p;
      const family = p.resourceIds ? familyOf(p.resourceIds) : alertFamily;
      return family ? { ...p, ecosystem: family } : p;
    }),
  };
}

export function matchAsset(alert: Pick<NormalizedAlert, 'packages' | 'resourceIds'>, asset: InventoryAsset, named = alert.resourceIds?.includes(asset.id) ?? false): AssetMatch {
  const vulnerable: { name: string; installed?: string; fixedVersion: string; ecosystem: Ecosystem }[] = [];
  const fixed: string[] = [];
  const absent: string[] = [];
  const otherFamily: string[] = [];
  const packages = applicablePackages(alert, asset).filter((pkg) => {
    const mismatch = advisoryFamilyMismatch(alert.packages.find((p) => p.name === pkg.name)!, asset);
    if (mismatch) otherFamily.push(`${pkg.name}: ${mismatch}`);
    return !mismatch;
  });
  for (const pkg of packages) {
    const installed = asset.packages[pkg.name];
    if (installed === undefined) absent.push(pkg.name);
    else if (isFixed(installed, pkg.fixedVersion, pkg.ecosystem)) {
      // Compared across upstream lines (a 9.6p1 node against the 8.9p1 fix): newer, but the advisory
      // did not say this release is fixed. Say so rather than claim it.
      const otherLine = (pkg.ecosystem === 'dpkg' || pkg.ecosystem === 'rpm') && upstreamOf(installed) !== upstreamOf(pkg.fixedVersion);
      fixed.push(`${pkg.name} ${installed}${otherLine ? ` (newer upstream than the only fixed version given, ${pkg.fixedVersion}: confirm for its release)` : ''}`);
    }
    else vulnerable.push({ name: pkg.name, installed, fixedVersion: pkg.fixedVersion, ecosystem: pkg.ecosystem });
  }
  if (vulnerable.length > 0) return { affected: true, vulnerable, named };
  if (named && fixed.length === 0 && packages.length > 0) {
    // The finding saw the vulnerable package; the inventory does not list it. Trust the scanner.
    return { affected: true, vulnerable: packages.map((p) => ({ name: p.name, fixedVersion: p.fixedVersion, ecosystem: p.ecosystem })), named };
  }
  if (fixed.length > 0) return { affected: false, reason: `already fixed: ${fixed.join(', ')}${named ? ' (named by a finding that predates the fix)' : ''}` };
  if (otherFamily.length > 0 && absent.length === 0) return { affected: false, reason: `no advisory for its OS: ${otherFamily.join('; ')}` };
  return { affected: false, reason: `not installed: ${absent.join(', ')}` };
}
