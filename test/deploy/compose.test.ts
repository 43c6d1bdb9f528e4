/**
 * docker-compose.yml is for our users; no Docker engine runs here, so it is parsed and checked for
 * the facts that make it work: services wired to each other, the search attributes our workflows set,
 * the server version we test against, and worker commands the CLI really has.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { EXPECTED_SERVER_VERSION } from '../../src/embedded/temporal-cli';
import { DEV_SERVER_TUNING } from '../../src/embedded/dev-server';
import { REPO_ROOT, TSX } from '../../src/embedded/sim-process';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

describe('docker-compose.yml', () => {
  it('has Temporal on PostgreSQL, the UI, the search-attribute setup and patchwave workers', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'temporal-setup', 'patchwave-worker', 'patchwave-sim', 'patchwave-ingress']));
    expect(services.temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgresql' });
    expect(services['temporal-ui'].environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(services['patchwave-worker'].environment?.TEMPORAL_ADDRESS).toBe('temporal:7233');
  });

  it('gives the server the dynamic config the embedded dev server runs with', () => {
    const temporal = services.temporal as Service & { volumes?: string[] };
    const mount = (temporal.volumes ?? []).find((v) => v.includes('dynamicconfig'));
    expect(mount, 'a dynamic config file is mounted').toBeDefined();
    const [host, container] = mount!.split(':');
    expect(`/etc/temporal/${temporal.environment?.DYNAMIC_CONFIG_FILE_PATH}`).toBe(container);
    const config = parse(readFileSync(path.join(REPO_ROOT, host!), 'utf8')) as Record<string, { value: unknown }[]>;
    for (const setting of DEV_SERVER_TUNING.dynamicConfig) {
      const [key, value] = setting.split('=');
      expect(config[key!]?.[0]?.value, key).toBe(JSON.parse(value!));
    }
  });

  it('runs the same Temporal server version as our tests', () => {
    const version = EXPECTED_SERVER_VERSION.replace('Server ', '');
    expect(services.temporal.image).toBe(`temporalio/auto-setup:${version}`);
    expect(services['temporal-setup'].image).toBe(`temporalio/admin-tools:${version}`);
  });

  it('every depends_on names a service, and no service depends on itself', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const dependency of Object.keys(service.depends_on ?? {})) {
        expect(services, `${name} depends on ${dependency}`).toHaveProperty(dependency);
        expect(dependency).not.toBe(name);
      }
    }
  });

  it('registers exactly the search attributes the workflows set', () => {
    const command = ([] as string[]).concat(services['temporal-setup'].command ?? []).join(' ');
    const registered = [...command.matchAll(/--name (\w+) --type (\w+)/g)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(registered)).toEqual(SEARCH_ATTRIBUTES);
  });

  it('starts patchwave services with commands the CLI really has', () => {
    for (const name of ['patchwave-worker', 'patchwave-sim', 'patchwave-ingress']) {
      const service = services[name];
      expect(service.build).toBe('.');
      const args = ([] as string[]).concat(service.command ?? []);
      const help = execFileSync(TSX, [path.join(REPO_ROOT, 'src/cli/main.ts'), args[0], '--help'], { encoding: 'utf8' });
      for (const flag of args.slice(1).filter((a) => a.startsWith('--'))) expect(help, `${name}: ${flag}`).toContain(flag);
    }
    const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/ENTRYPOINT \[.*src\/cli\/main\.ts"\]/);
    expect(dockerfile).toMatch(/npm ci/);
  });

  it('keeps secrets out of the file: passwords come from the environment', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/AWS_SECRET_ACCESS_KEY|PATCHWAVE_WEBHOOK_SECRET=\S/);
    expect(services['patchwave-ingress'].environment?.PATCHWAVE_WEBHOOK_SECRET).toMatch(/^\$\{PATCHWAVE_WEBHOOK_SECRET:\?/);
    expect(services.postgresql.environment?.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD/);
  });
});
