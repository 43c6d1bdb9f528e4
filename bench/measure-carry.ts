/**
 * What a campaign carries across continue-as-new, measured: the plan of a synthetic fleet (the one of
 * test/domain/planner.test.ts), a state in the middle of a campaign, and the continue-as-new input as
 * JSON (what the default payload converter writes) — whole plan (before `compact-carried-plan`) and
 * compact (the plan's core; the prose read back by the next run's `readPlanProse`, also measured).
 *
 *   node_modules/.bin/tsx bench/measure-carry.ts --clusters 1000 --nodes-per-cluster 10
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { parseAlert } from '../src/domain/alerts';
import { encodeProse, proseOf } from '../src/domain/campaign/carry';
import { carryCompact, carryForContinueAsNew, newCampaignState } from '../src/domain/campaign/state';
import { parseKevCatalogText } from '../src/domain/enrichment/kev';
import { planCampaign } from '../src/domain/planner';
import { parsePolicy } from '../src/domain/policy';
import { sequentialEstate } from '../test/support/synthetic-inventory';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '1000' }, 'nodes-per-cluster': { type: 'string', default: '10' } } });
const clusterCount = Number(values.clusters);
const perCluster = Number(values['nodes-per-cluster']);
const alert = parseAlert(readFileSync(new URL('../test/fixtures/alerts/generic-regresshion.json', import.meta.url))).alerts[0]!;
const kev = parseKevCatalogText(readFileSync(new URL('../data/kev/known_exploited_vulnerabilities.json', import.meta.url), 'utf8'));
const policy = parsePolicy({});
// The same synthetic fleet as test/domain/planner.test.ts's "plans stay compact".
const fleet = sequentialEstate(clusterCount, perCluster);
const planningStarted = performance.now();
const plan = planCampaign(alert, fleet, policy, { now: new Date('2025-08-25T14:34:00Z'), kev });
const planningMs = performance.now() - planningStarted;
const state = newCampaignState(alert, 'all', policy, '2025-08-25T14:34:00.000Z');
state.plan = plan;
// Mid-campaign: the first half patched, every cluster of the first half leased and released.
const clusters = plan.tiers.flatMap((t) => t.clusters);
clusters.slice(0, clusters.length / 2).forEach((c) => {
  for (const id of c.nodes) state.outcomes[id] = 'patched';
  state.leases[c.id] = 'released';
});
state.tierIndex = 1;
const whole = { alert, fleet: { provider: 'sim', scope: 'all' }, policy: {}, carried: carryForContinueAsNew(state) };
const compact = { ...whole, carried: carryCompact(state, proseOf(plan)) };
const kib = (v: unknown) => (Buffer.byteLength(JSON.stringify(v)) / 1024).toFixed(1);
const fields = (carried: object) =>
  Object.entries(carried)
    .map(([k, v]) => `${k} ${kib(v)}`)
    .filter((f) => !/ 0\.\d$/.test(f))
    .join(', ');
console.log(`${clusterCount} clusters of ${perCluster}: planned in ${planningMs.toFixed(0)} ms; the plan ${kib(plan)} KiB (clusters' reasons ${kib(clusters.map((c) => c.reason))} KiB; the planning activity's result)`);
console.log(`  continue-as-new input, whole plan: ${kib(whole)} KiB (${fields(whole.carried)})`);
console.log(`  continue-as-new input, compact:    ${kib(compact)} KiB (${fields(compact.carried)})`);
console.log(`  prose read back by the next run (readPlanProse's result): ${kib(encodeProse(plan))} KiB`);
const gzipKib = (v: unknown) => (gzipSync(Buffer.from(JSON.stringify(v))).length / 1024).toFixed(1);
console.log(`  gzip-compressed (the payload codec, docs/security.md): plan ${gzipKib(plan)} KiB, compact continue-as-new input ${gzipKib(compact)} KiB, prose ${gzipKib(encodeProse(plan))} KiB`);
