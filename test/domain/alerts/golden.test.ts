import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../src/domain/alerts';

/**
 * Golden files: every real-format fixture and exactly what it normalises to. A change in intake
 * shows up as a diff of test/domain/alerts/__golden__/ in review (`vitest -u` rewrites them).
 */
const dir = new URL('../../fixtures/alerts/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json'));

describe('alert fixtures → normalized alerts (golden)', () => {
  it('covers every format', () => {
    const formats = new Set(fixtures.map((f) => parseAlert(readFileSync(new URL(f, dir), 'utf8')).format));
    expect([...formats].sort()).toEqual(['asff-finding', 'asff-findings', 'generic', 'inspector2-event', 'securityhub-event']);
  });

  it.each(fixtures)('%s', async (file) => {
    const result = parseAlert(readFileSync(new URL(file, dir), 'utf8'));
    await expect(`${JSON.stringify(result, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${file}`);
  });
});
