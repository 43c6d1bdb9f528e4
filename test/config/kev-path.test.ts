import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KEV_PATH_ENV, REPO_ROOT, resolveKevPath } from '../../src/config/kev-path';
import { parseKevCatalogText } from '../../src/domain/enrichment/kev';
import { readFileSync } from 'node:fs';

describe('resolveKevPath', () => {
  it('defaults to the snapshot shipped in this repository, which is a valid catalog', () => {
    const file = resolveKevPath({});
    expect(file).toBe(path.join(REPO_ROOT, 'data/kev/known_exploited_vulnerabilities.json'));
    expect(existsSync(file)).toBe(true);
    expect(parseKevCatalogText(readFileSync(file, 'utf8')).catalogVersion).toBe('2025.08.25');
  });

  it(`honours ${KEV_PATH_ENV}, relative to the working directory`, () => {
    expect(resolveKevPath({ [KEV_PATH_ENV]: 'kev/catalog.json' }, '/opt/run')).toBe('/opt/run/kev/catalog.json');
    expect(resolveKevPath({ [KEV_PATH_ENV]: '/etc/patchwave/kev.json' }, '/opt/run')).toBe('/etc/patchwave/kev.json');
  });
});
