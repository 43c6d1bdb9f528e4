/**
 * scripts/ensure-deps.sh, the first thing every `bin/patchwave` call runs, against a scratch checkout
 * with a fake `npm` on PATH that records what it was asked to do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/embedded/node-process';

const LOCK = {
  name: 'scratch',
  lockfileVersion: 3,
  packages: {
    '': { name: 'scratch', dependencies: { left: '1.0.0' } },
    'node_modules/left': { version: '1.0.0', resolved: 'https://registry.example/left-1.0.0.tgz', integrity: 'sha512-left' },
    // A platform binary npm skips elsewhere: absent from node_modules, and that is in sync.
    'node_modules/@native/other-os': { version: '2.0.0', optional: true, os: ['aix'] },
  },
};
const hidden = (version: string) => ({
  name: 'scratch',
  lockfileVersion: 3,
  packages: { 'node_modules/left': { version, resolved: `https://registry.example/left-${version}.tgz`, integrity: version === '1.0.0' ? 'sha512-left' : 'sha512-old' } },
});

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function checkout(installed: string | undefined): { root: string; npmCalls: () => string[] } {
  const root = mkdtempSync(path.join(tmpdir(), 'patchwave-deps-'));
  dirs.push(root);
  mkdirSync(path.join(root, 'scripts'));
  for (const f of ['ensure-deps.sh', 'deps-check.mjs']) copyFileSync(path.join(REPO_ROOT, 'scripts', f), path.join(root, 'scripts', f));
  writeFileSync(path.join(root, 'package-lock.json'), JSON.stringify(LOCK, null, 2));
  if (installed) {
    mkdirSync(path.join(root, 'node_modules', 'left'), { recursive: true });
    writeFileSync(path.join(root, 'node_modules', '.package-lock.json'), JSON.stringify(hidden(installed), null, 2));
  }
  // A fake npm: records its arguments; `npm ci` installs what the lock file says, as npm would.
  const bin = path.join(root, 'fake-bin');
  mkdirSync(bin);
  writeFileSync(
    path.join(bin, 'npm'),
    `#!/usr/bin/env bash\necho "$*" >> "${root}/npm-calls"\nif [ "$1" = ci ]; then mkdir -p node_modules && echo '${JSON.stringify(hidden('1.0.0'))}' > node_modules/.package-lock.json; fi\n`,
  );
  chmodSync(path.join(bin, 'npm'), 0o755);
  return {
    root,
    npmCalls: () => (existsSync(path.join(root, 'npm-calls')) ? readFileSync(path.join(root, 'npm-calls'), 'utf8').trim().split('\n') : []),
  };
}

function ensureDeps(root: string) {
  return spawnSync('bash', [path.join(root, 'scripts', 'ensure-deps.sh')], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${path.join(root, 'fake-bin')}:${process.env.PATH}` },
  });
}

describe('ensure-deps', () => {
  it('leaves node_modules alone when npm installed exactly the lock file (no stamp of its own needed)', () => {
    const { root, npmCalls } = checkout('1.0.0');
    const result = ensureDeps(root);
    expect(result.status, result.stderr).toBe(0);
    expect(npmCalls()).toEqual([]);
  });

  it('installs from the lock file when node_modules is missing or behind it and nothing runs from it', () => {
    for (const installed of [undefined, '0.9.0']) {
      const { root, npmCalls } = checkout(installed);
      const result = ensureDeps(root);
      expect(result.status, result.stderr).toBe(0);
      expect(npmCalls()).toEqual([expect.stringMatching(/^ci\b/)]);
      expect(result.stderr).toContain('installing npm dependencies');
      // Installed: the next call does nothing.
      expect(ensureDeps(root).status).toBe(0);
      expect(npmCalls()).toHaveLength(1);
    }
  });

  it('refuses to reinstall under a process running from the checkout, and names it', async () => {
    const { root, npmCalls } = checkout('0.9.0');
    // Stands in for a worker: a long-running node process started from this checkout.
    const worker = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', path.join(root, 'src', 'cli', 'main.ts'), 'worker'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const result = ensureDeps(root);
      expect(result.status).not.toBe(0);
      expect(npmCalls()).toEqual([]);
      expect(result.stderr).toContain('does not match package-lock.json');
      expect(result.stderr).toContain(`pid ${worker.pid} `);
      expect(result.stderr).toContain('not reinstalling');
    } finally {
      worker.kill('SIGKILL');
    }
  });
});
