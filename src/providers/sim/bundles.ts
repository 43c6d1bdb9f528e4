/**
 * Offline bundles as one node sees them: the checksum of each file of its copy (a `bundle-corrupt`
 * fault changes one), the verdict against a policy's manifest, and the package versions a patch
 * installs from a bundle that passed it.
 */
import { createHash } from 'node:crypto';
import { compareVersions } from '../../domain/versions';
import { checkBundle, type BundleCheck, type BundleSource } from '../../domain/package-source';
import { bundleFileChecksum, type BundleSpec } from './fleet-spec';
import type { FaultInjector } from './faults';
import type { FleetStore } from './journal';
import type { NodeState } from './model';

export class BundleShelf {
  constructor(
    private readonly store: FleetStore,
    private readonly faults: FaultInjector,
  ) {}

  /** The bundle as the fleet file declares it (state saved before bundles existed has none). */
  find(name: string): BundleSpec | undefined {
    return (this.store.fleet.bundles ?? []).find((b) => b.name === name);
  }

  /** The sha256 of each manifest file in this node's copy of the bundle; null where the file is missing. */
  checksums(node: NodeState, source: BundleSource): Record<string, string | null> {
    const bundle = this.find(source.name);
    const corrupt = this.faults.faultOn(node, 'bundle-corrupt');
    const corrupted = corrupt && bundle && corrupt.bundle === bundle.name ? (corrupt.file ?? bundle.files[0]!.path) : undefined;
    const sums: Record<string, string | null> = {};
    for (const file of Object.keys(source.manifest)) {
      const spec = bundle?.files.find((f) => f.path === file);
      if (!spec) sums[file] = null;
      else {
        const sum = bundleFileChecksum(bundle!, spec);
        // A copy with a bad block: same name, other bytes.
        sums[file] = file === corrupted ? createHash('sha256').update(`${sum}: corrupted (fault ${corrupt!.id})`).digest('hex') : sum;
      }
    }
    return sums;
  }

  verify(node: NodeState, source: BundleSource): BundleCheck {
    return checkBundle(source, this.checksums(node, source));
  }

  /** Package → newest version among the bundle's files the manifest names (only verified files are installed from). */
  versions(source: BundleSource): Record<string, string> {
    const versions: Record<string, string> = {};
    for (const file of this.find(source.name)?.files ?? []) {
      if (!(file.path in source.manifest) || file.package === undefined || file.version === undefined) continue;
      const known = versions[file.package];
      if (known === undefined || compareVersions(file.version, known) > 0) versions[file.package] = file.version;
    }
    return versions;
  }
}
