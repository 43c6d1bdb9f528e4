/**
 * How fast the alert parser refuses bad and hostile input (the tests assert what it says, not how
 * long it takes): every fixture under test/fixtures/alerts/bad, and the oversized shapes an attacker
 * would send — 10,000 findings, 10,000 node ids, 10,000 packages, nesting past the limit, a payload
 * past the byte limit, a document with too many values. Prints each case's median and max of 20 runs.
 *
 *   node_modules/.bin/tsx bench/alert-rejection.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ALERT_LIMITS, parseAlert } from '../src/domain/alerts';

const dir = new URL('../test/fixtures/alerts/bad/', import.meta.url);
const many = (n: number, item: (i: number) => unknown) => Array.from({ length: n }, (_, i) => item(i));
let deep: Record<string, unknown> = {};
const root = deep;
for (let i = 0; i < 200; i++) deep = (deep.a = {}) as Record<string, unknown>;

const cases: [string, unknown][] = [
  ...readdirSync(dir).map((file): [string, unknown] => [`fixture ${file}`, readFileSync(new URL(file, dir), 'utf8')]),
  ['10,000 Security Hub findings', { 'detail-type': 'Security Hub Findings - Imported', source: 'aws.securityhub', detail: { findings: many(10_000, (i) => ({ Id: `f-${i}` })) } }],
  ['10,000 node ids', { cveId: 'CVE-2024-6387', packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }], target: { nodeIds: many(10_000, (i) => `i-${i}`) } }],
  ['10,000 packages', { cveId: 'CVE-2024-6387', packages: many(10_000, (i) => ({ name: `p${i}`, fixedVersion: '1' })) }],
  ['200 levels of nesting', { cveId: 'CVE-2024-6387', packages: [], extra: root }],
  ['payload past the byte limit', `{"cveId":"CVE-2024-6387","pad":"${'x'.repeat(ALERT_LIMITS.maxBytes)}"}`],
  ['too many values', { cveId: 'CVE-2024-6387', packages: [], wide: many(ALERT_LIMITS.maxValues + 1, (i) => i) }],
];

console.log('case | median ms | max ms');
for (const [name, input] of cases) {
  const times: number[] = [];
  for (let run = 0; run < 20; run++) {
    const started = performance.now();
    try {
      parseAlert(input);
    } catch {
      // refused, as expected
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`${name} | ${times[10]!.toFixed(2)} | ${times[19]!.toFixed(2)}`);
}
