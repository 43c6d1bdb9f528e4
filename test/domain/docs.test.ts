import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { genericAlertJsonSchema } from '../../src/domain/alerts';
import { URGENCY_RULES } from '../../src/domain/ranking/urgency';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

describe('docs agree with the code', () => {
  it('docs/alert.schema.json is the schema the parser enforces (regenerate: see docs/alerts.md)', () => {
    expect(JSON.parse(doc('alert.schema.json'))).toEqual(genericAlertJsonSchema());
  });

  it('docs/ranking.md lists the urgency table row by row', () => {
    const words = { 'act-now': 'act now + forensic triage', '3-days': '3 days', '14-days': '14 days', '60-days': '60 days', 'next-upgrade': 'next regular upgrade' };
    const cell = (v: unknown) => (v === true ? 'yes' : v === false ? 'no' : String(v));
    const rows = doc('ranking.md')
      .split('\n')
      .filter((line) => /^\| U\d+ \|/.test(line))
      .map((line) => line.split('|').slice(1, 7).map((c) => c.trim()));
    expect(rows).toEqual(URGENCY_RULES.map((r) => [r.id, cell(r.exploitation), cell(r.exposure), cell(r.automatable), cell(r.technicalImpact), words[r.urgency]]));
  });

  it('docs/architecture.md says why each folder under src/ exists, one row each', () => {
    const src = new URL('../../src/', import.meta.url);
    const folders = (dir: string): string[] =>
      readdirSync(new URL(dir, src), { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .flatMap((e) => [`${dir}${e.name}/`, ...folders(`${dir}${e.name}/`)]);
    const rows = doc('architecture.md')
      .split('\n')
      .filter((line) => line.startsWith('| `src/'))
      .map((line) => line.split('|')[1]!.trim().replaceAll('`', ''));
    expect(rows.filter((row) => row.endsWith('/')).sort()).toEqual(folders('').map((f) => `src/${f}`).sort());
  });
});
