import { describe, expect, it } from 'vitest';
import { defaultKevPath } from '../../../src/domain/alerts';

describe('defaultKevPath (pure: the caller passes the environment value)', () => {
  it('is data/kev/known_exploited_vulnerabilities.json under the repository', () => {
    expect(defaultKevPath('/srv/patchwave/')).toBe('/srv/patchwave/data/kev/known_exploited_vulnerabilities.json');
  });

  it('yields to an override, ignoring an empty one', () => {
    expect(defaultKevPath('/srv/patchwave', '/var/lib/kev.json')).toBe('/var/lib/kev.json');
    expect(defaultKevPath('/srv/patchwave', '  ')).toBe('/srv/patchwave/data/kev/known_exploited_vulnerabilities.json');
  });
});
