import { PatchwaveError } from '../../../src/domain/errors';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { KEV_FEED_URL, registerKevCommand } from '../../../src/cli/commands/kev';

const shipped = path.resolve(new URL('../../../data/kev/known_exploited_vulnerabilities.json', import.meta.url).pathname);
const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A directory holding a copy of the shipped catalog: what must survive a failed refresh. */
function workspace(): { dir: string; out: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-kev-'));
  const out = path.join(dir, 'kev.json');
  copyFileSync(shipped, out);
  return { dir, out };
}

async function refresh(fetchImpl: typeof fetch, args: string[]): Promise<{ stdout: string; error?: PatchwaveError; requested: string[] }> {
  let stdout = '';
  const requested: string[] = [];
  const program = new Command('patchwave').exitOverride();
  registerKevCommand(program, {
    fetch: (input, init) => {
      requested.push(String(input));
      return fetchImpl(input, init);
    },
    stdout: (t) => void (stdout += t),
  });
  try {
    await program.parseAsync(['kev', 'refresh', ...args], { from: 'user' });
    return { stdout, requested };
  } catch (err) {
    if (err instanceof PatchwaveError) return { stdout, error: err, requested };
    throw err;
  }
}

describe('patchwave kev refresh', () => {
  it('offline: fails clearly and leaves the catalog untouched', async () => {
    const { dir, out } = workspace();
    const before = digest(out);
    const offline = (async () => {
      throw new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND www.cisa.gov'), { code: 'ENOTFOUND', hostname: 'www.cisa.gov' }) });
    }) as typeof fetch;
    const { error, requested } = await refresh(offline, ['--out', out]);
    expect(requested).toEqual([KEV_FEED_URL]);
    expect(error?.exitCode).toBe(1);
    expect(error?.message).toBe(
      `kev refresh: could not download ${KEV_FEED_URL} (ENOTFOUND www.cisa.gov); is this machine offline? The shipped snapshot still works, or pass --url to a mirror. ` +
        `Nothing was changed: ${out} still holds catalog 2025.08.25.`,
    );
    expect(digest(out)).toBe(before);
    expect(readdirSync(dir)).toEqual(['kev.json']);
  });

  it('times out instead of hanging', async () => {
    const { out } = workspace();
    const before = digest(out);
    const hanging = ((_: unknown, init?: RequestInit) =>
      new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)))) as typeof fetch;
    const started = Date.now();
    const { error } = await refresh(hanging, ['--out', out, '--timeout', '100ms']);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error?.message).toContain('(timed out after 100 ms)');
    expect(digest(out)).toBe(before);
  });

  it('refuses an HTTP error, and a page that is not a catalog', async () => {
    const { out } = workspace();
    const before = digest(out);
    const unavailable = (async () => new Response('busy', { status: 503, statusText: 'Service Unavailable' })) as typeof fetch;
    expect((await refresh(unavailable, ['--out', out])).error?.message).toMatch(/answered HTTP 503 Service Unavailable\. Nothing was changed/);
    const portal = (async () => new Response('<html>Sign in to the Wi-Fi</html>')) as typeof fetch;
    expect((await refresh(portal, ['--out', out])).error?.message).toMatch(/did not return a KEV catalog: not JSON/);
    expect(digest(out)).toBe(before);
  });

  it('replaces the file atomically with a validated catalog', async () => {
    const { dir } = workspace();
    const out = path.join(dir, 'nested', 'kev.json');
    const catalog = readFileSync(shipped, 'utf8').replace('"catalogVersion": "2025.08.25"', '"catalogVersion": "2025.09.01"');
    const online = (async () => new Response(catalog, { status: 200 })) as typeof fetch;
    const { stdout, error } = await refresh(online, ['--out', out]);
    expect(error).toBeUndefined();
    expect(stdout).toBe(`KEV catalog 2025.09.01 (8 entries, released 2025-08-25T17:04:19.9796Z) written to ${out}\n`);
    expect(readFileSync(out, 'utf8')).toBe(catalog);
    expect(readdirSync(path.dirname(out))).toEqual(['kev.json']);
  });

  it('says so when there was no catalog to keep', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-kev-'));
    const out = path.join(dir, 'kev.json');
    const { error } = await refresh((async () => new Response('nope', { status: 404 })) as typeof fetch, ['--out', out]);
    expect(error?.message).toContain(`Nothing was changed: there is no catalog at ${out}.`);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a bad --timeout as bad input', async () => {
    const { error } = await refresh((async () => new Response('')) as typeof fetch, ['--out', '/tmp/x.json', '--timeout', 'soon']);
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toMatch(/--timeout: expected a duration like 500ms/);
  });
});
