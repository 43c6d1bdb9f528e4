/**
 * Longest files first. Vitest orders a run without its cache (every CI run: a fresh clone) by file
 * size, so the chaos file — small, and the longest by far — started last and ran alone at the end
 * for seven minutes. With two files at a time, starting the longest first keeps both busy to the
 * end. The figures are one CI run's (seconds, 2026-12-01); only their order matters, and a file not
 * listed keeps vitest's own order after these.
 */
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const MEASURED_SECONDS: Record<string, number> = {
  'test/chaos/chaos.test.ts': 424,
  'test/cluster/topology.test.ts': 164,
  'test/chaos/takeover.test.ts': 98,
  'test/workflows/campaign.test.ts': 93,
  'test/ingress/queue.test.ts': 75,
  'test/ingress/hardening.test.ts': 75,
  'test/workflows/provider-outage.test.ts': 68,
  'test/workflows/messages.test.ts': 35,
  'test/cluster/mtls.test.ts': 32,
  'test/temporal/encrypted-history.test.ts': 28,
  'test/workflows/durability.test.ts': 28,
};

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const ordered = await super.sort(files);
    const seconds = (spec: TestSpecification) => MEASURED_SECONDS[relative(spec.project.config.root, spec.moduleId).replaceAll('\\', '/')] ?? 0;
    // Stable: files with no figure keep vitest's order among themselves.
    return ordered.map((spec, index) => ({ spec, index })).sort((a, b) => seconds(b.spec) - seconds(a.spec) || a.index - b.index).map(({ spec }) => spec);
  }
}
