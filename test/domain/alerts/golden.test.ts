import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAlert } from '../../../src/domain/alerts';

/**
 * Golden files: every real-format fixture and exactly what it normalises to. A change in intake
 * shows up as a diff of test/domain/alerts/__golden__/ in review (`vitest -u` rewrites them).
 */
const dir = new URL('../../fixtures/alerts/', import.meta.url);
const fixtures = readdirSync(dir).filter((f) => /\.(json|ndjson)$/.test(f));

describe('alert fixtures → normalized alerts (golden)', () => {
  it('covers every format', () => {
    const formats = new Set(fixtures.flatMap((f) => {
      const result = parseAlert(readFileSync(new URL(f, dir)));
      return [result.format, ...(result.itemFormats ?? [])];
    }));
    expect([...formats].sort()).toEqual([
      'alertmanager', 'asff-finding', 'asff-findings', 'generic', 'inspector2-event', 'inspector2-finding', 'json-array', 'ndjson', 'ocsf-finding', 'securityhub-event', 'securityhub-v2-event',
    ]);
  });

  it('names its source at the top of every fixture (each item of an array or stream)', () => {
    for (const file of fixtures) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const items = file.endsWith('.ndjson') ? text.trim().split('\n').map((l) => JSON.parse(l)) : [JSON.parse(text)].flat();
      for (const item of items) expect(Object.keys(item)[0], file).toBe('_source');
    }
  });

  it.each(fixtures)('%s', async (file) => {
    // Bytes, as the CLI and the webhook read them.
    const result = parseAlert(readFileSync(new URL(file, dir)));
    await expect(`${JSON.stringify(result, null, 2)}\n`).toMatchFileSnapshot(`./__golden__/${file.replace(/\.ndjson$/, '.json')}`);
  });
});
