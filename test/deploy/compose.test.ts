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
import { clusterTools } from '../../src/embedded/cluster/binaries';
import { serverConfig, uiConfig, uiOrigins } from '../../src/embedded/cluster/server-config';
import { clientTlsEnvironment, clusterTlsFiles, serverTlsConfig } from '../../src/embedded/cluster/tls';
import { DYNAMIC_CONFIG_FILE, loadTopology, MAX_TEMPORAL_PORT, shiftPorts } from '../../src/embedded/cluster/topology';

interface Service {
  image?: string;
  build?: string;
  command?: string[] | string;
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  expose?: string[];
  secrets?: string[];
  volumes?: string[];
}

const compose = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes: Record<string, unknown>; secrets: Record<string, { file: string }> };
const services = compose.services;
/** The mTLS overlay (`docker compose -f docker-compose.yml -f docker-compose.mtls.yml`). */
const mtls = parse(readFileSync(path.join(REPO_ROOT, 'docker-compose.mtls.yml'), 'utf8')) as { services: Record<string, Service> };
/** `host:container` and `ip:host:container` port mappings as [host, container] numbers. */
const published = (name: string) => (services[name].ports ?? []).map((p) => p.split(':').slice(-2).map(Number));

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
    for (const name of ['patchwave-worker', 'patchwave-sim', 'patchwave-ingress', 'patchwave-codec-server']) {
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
    expect(services['patchwave-codec-server'].environment?.PATCHWAVE_CODEC_TOKEN).toMatch(/^\$\{PATCHWAVE_CODEC_TOKEN:\?/);
    expect(compose.secrets['patchwave-codec-keys'].file).toMatch(/^\$\{PATCHWAVE_CODEC_KEYS_FILE:\?/);
    expect(text).not.toMatch(/PATCHWAVE_CODEC_KEYS:|PATCHWAVE_CODEC_TOKEN: [^$]/);
  });

  it('encrypts payloads everywhere they are made or read: one keyring for workers, ingress and codec server', () => {
    const holders = Object.entries(services).filter(([, s]) => s.environment?.PATCHWAVE_CODEC_KEYS_FILE !== undefined).map(([name]) => name);
    expect(holders.sort()).toEqual(['patchwave-codec-server', 'patchwave-ingress', 'patchwave-worker']);
    for (const name of holders) {
      expect(services[name].environment?.PATCHWAVE_CODEC_KEYS_FILE, name).toBe('/run/secrets/patchwave-codec-keys');
      expect(services[name].secrets, name).toEqual(['patchwave-codec-keys']);
    }
  });
});

/**
 * The native cluster (`patchwave cluster up`) and this file must describe the same deployment:
 * both read deploy/, and these checks fail when one of them moves without the other.
 */
describe('docker-compose.yml and the native cluster (deploy/topology.yaml)', () => {
  const topology = loadTopology();
  const native = serverConfig({ topology, ports: topology.ports, password: 'x' }) as {
    persistence: { numHistoryShards: number; datastores: Record<string, { sql: { databaseName: string; maxConns: number; maxIdleConns: number; pluginName: string } }> };
    services: Record<string, { rpc: { grpcPort: number; membershipPort: number; httpPort?: number } }>;
    dynamicConfigClient: { filepath: string };
  };
  const env = services.temporal.environment ?? {};

  it('runs the same versions: Temporal server, UI server and PostgreSQL major', () => {
    expect(services.temporal.image).toBe(`temporalio/auto-setup:${topology.versions.temporalServer}`);
    expect(services['temporal-setup'].image).toBe(`temporalio/admin-tools:${topology.versions.temporalServer}`);
    expect(services['temporal-ui'].image).toBe(`temporalio/ui:${topology.versions.temporalUi}`);
    expect(services.postgresql.image).toBe(`postgres:${topology.versions.postgresql}`);
    expect(clusterTools().server.version).toBe(`v${topology.versions.temporalServer}`);
    expect(clusterTools().ui.version).toBe(`v${topology.versions.temporalUi}`);
    // The dev server the other tests run embeds the same server.
    expect(EXPECTED_SERVER_VERSION).toBe(`Server ${topology.versions.temporalServer}`);
  });

  it('gives both servers the same persistence settings', () => {
    const main = native.persistence.datastores['postgres-default'].sql;
    const visibility = native.persistence.datastores['postgres-visibility'].sql;
    expect(env.DB).toBe(main.pluginName);
    expect({ DBNAME: env.DBNAME, VISIBILITY_DBNAME: env.VISIBILITY_DBNAME }).toEqual({ DBNAME: main.databaseName, VISIBILITY_DBNAME: visibility.databaseName });
    expect(Number(env.NUM_HISTORY_SHARDS)).toBe(native.persistence.numHistoryShards);
    expect([Number(env.SQL_MAX_CONNS), Number(env.SQL_MAX_IDLE_CONNS)]).toEqual([main.maxConns, main.maxIdleConns]);
    expect([Number(env.SQL_VIS_MAX_CONNS), Number(env.SQL_VIS_MAX_IDLE_CONNS)]).toEqual([visibility.maxConns, visibility.maxIdleConns]);
    expect(env.POSTGRES_USER).toBe(topology.persistence.user);
    expect(services.postgresql.environment?.POSTGRES_USER).toBe(topology.persistence.user);
    expect(([] as string[]).concat(services.postgresql.command ?? []).join(' ')).toContain(`max_connections=${topology.persistence.postgresMaxConnections}`);
    expect({ ns: env.DEFAULT_NAMESPACE, retention: env.DEFAULT_NAMESPACE_RETENTION }).toEqual({ ns: topology.namespace.name, retention: topology.namespace.retention });
  });

  it('uses the same ports, every Temporal one <= 32767', () => {
    const expected: Record<string, number> = {
      FRONTEND_GRPC_PORT: native.services.frontend.rpc.grpcPort,
      FRONTEND_HTTP_PORT: native.services.frontend.rpc.httpPort!,
      HISTORY_GRPC_PORT: native.services.history.rpc.grpcPort,
      MATCHING_GRPC_PORT: native.services.matching.rpc.grpcPort,
      WORKER_GRPC_PORT: native.services.worker.rpc.grpcPort,
      FRONTEND_MEMBERSHIP_PORT: native.services.frontend.rpc.membershipPort,
      HISTORY_MEMBERSHIP_PORT: native.services.history.rpc.membershipPort,
      MATCHING_MEMBERSHIP_PORT: native.services.matching.rpc.membershipPort,
      WORKER_MEMBERSHIP_PORT: native.services.worker.rpc.membershipPort,
    };
    for (const [key, port] of Object.entries(expected)) {
      expect(Number(env[key]), key).toBe(port);
      expect(port, key).toBeLessThanOrEqual(MAX_TEMPORAL_PORT);
    }
    expect(published('temporal')).toContainEqual([topology.ports.frontend, topology.ports.frontend]);
    expect(published('temporal-ui')).toContainEqual([topology.ports.ui, topology.ports.ui]);
    expect(Number(services['temporal-ui'].environment?.TEMPORAL_UI_PORT)).toBe(topology.ports.ui);
    expect(published('patchwave-ingress')).toContainEqual([topology.ports.ingress, topology.ports.ingress]);
    const flag = (name: string, f: string) => {
      const args = ([] as string[]).concat(services[name].command ?? []);
      return Number(args[args.indexOf(f) + 1]);
    };
    expect(flag('patchwave-ingress', '--port')).toBe(topology.ports.ingress);
    expect(flag('patchwave-sim', '--port')).toBe(topology.ports.sim);
    expect(services['patchwave-worker'].environment?.PATCHWAVE_SIM_URL).toBe(`http://patchwave-sim:${topology.ports.sim}`);
    for (const name of ['temporal-ui', 'patchwave-worker', 'patchwave-ingress']) expect(services[name].environment?.TEMPORAL_ADDRESS, name).toBe(`temporal:${topology.ports.frontend}`);
    // And the shifted layout of a native cluster refuses to cross the SMALLINT limit.
    expect(() => shiftPorts(topology.ports, 32_768 - topology.ports.frontendHttp)).toThrow(/SMALLINT/);
  });

  it('mounts the dynamic config file the native server reads', () => {
    const mount = ((services.temporal as Service & { volumes?: string[] }).volumes ?? []).find((v) => v.includes('dynamicconfig'))!;
    expect(path.resolve(REPO_ROOT, mount.split(':')[0])).toBe(native.dynamicConfigClient.filepath);
    expect(native.dynamicConfigClient.filepath).toBe(DYNAMIC_CONFIG_FILE);
  });

  it('points the UI at the codec server: the same port, the UI origin in its CORS list, the same token', () => {
    const codec = services['patchwave-codec-server'];
    const args = ([] as string[]).concat(codec.command ?? []);
    const flag = (f: string) => args[args.indexOf(f) + 1];
    expect(args[0]).toBe('codec-server');
    expect(Number(flag('--port'))).toBe(topology.ports.codecServer);
    // Published on the host's loopback only (it decrypts for whoever holds the token).
    expect(codec.ports).toEqual([`127.0.0.1:${topology.ports.codecServer}:${topology.ports.codecServer}`]);
    const ui = services['temporal-ui'].environment ?? {};
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`http://localhost:${topology.ports.codecServer}/${codec.environment?.PATCHWAVE_CODEC_TOKEN}`);
    // The origin the browser sends is the UI's own, one the native cluster's codec server allows too.
    expect(flag('--ui-origin')).toBe(ui.TEMPORAL_CORS_ORIGINS);
    expect(uiOrigins(topology.ports)).toContain(flag('--ui-origin'));
    const native = uiConfig(topology.ports, topology.namespace.name, null, `http://127.0.0.1:${topology.ports.codecServer}/token`) as { codec: { endpoint: string; passAccessToken: boolean } };
    expect(new URL(native.codec.endpoint).port).toBe(String(topology.ports.codecServer));
    expect(ui.TEMPORAL_CODEC_PASS_ACCESS_TOKEN ?? 'false').toBe(String(native.codec.passAccessToken));
  });

  it('with the mTLS overlay, the server requires client certificates as the native cluster does, and every client has one', () => {
    const dir = '/etc/patchwave/tls';
    const files = clusterTlsFiles(dir, topology.security.tlsServerName);
    // Compose's service name is the name in the certificate and in every client's address.
    expect(files.serverName).toBe('temporal');
    expect(services).toHaveProperty(files.serverName);
    for (const [name, service] of Object.entries(mtls.services)) {
      expect(services, `the overlay's ${name} exists in docker-compose.yml`).toHaveProperty(name);
      expect(service.command, `${name}: the overlay changes settings, not commands`).toBeUndefined();
      // Every certificate file the service is told about is mounted, read-only, one file at a time:
      // the CA's key never, the server's key only into the server.
      const mounts = Object.fromEntries((service.volumes ?? []).map((v) => /^(.+):([^:]+):(ro|rw)$/.exec(v)!).map(([, host, container, mode]) => [container, { host, mode }]));
      for (const value of Object.values(service.environment ?? {}).filter((v) => v.startsWith(`${dir}/`))) {
        expect(mounts[value], `${name} mounts ${value}`).toEqual({ host: `\${PATCHWAVE_TLS_DIR:-./certs}/${path.basename(value)}`, mode: 'ro' });
      }
      expect(Object.keys(mounts).filter((m) => m.endsWith('ca.key') || m === dir), name).toEqual([]);
      if (name !== 'temporal') expect(Object.keys(mounts), name).not.toContain(files.serverKey);
    }

    const native = serverTlsConfig(files) as Record<'internode' | 'frontend', { server: { certFile: string; keyFile: string; requireClientAuth: boolean; clientCaFiles: string[] }; client: { serverName: string; rootCaFiles: string[] } }>;
    const server = mtls.services.temporal.environment ?? {};
    expect(server.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe(String(native.frontend.server.requireClientAuth));
    expect(server.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe(String(native.internode.server.requireClientAuth));
    expect({ cert: server.TEMPORAL_TLS_SERVER_CERT, key: server.TEMPORAL_TLS_SERVER_KEY, ca: [server.TEMPORAL_TLS_SERVER_CA_CERT], name: server.TEMPORAL_TLS_INTERNODE_SERVER_NAME }).toEqual({
      cert: native.internode.server.certFile,
      key: native.internode.server.keyFile,
      ca: native.internode.server.clientCaFiles,
      name: native.internode.client.serverName,
    });
    expect({ cert: server.TEMPORAL_TLS_FRONTEND_CERT, key: server.TEMPORAL_TLS_FRONTEND_KEY, name: server.TEMPORAL_TLS_FRONTEND_SERVER_NAME }).toEqual({
      cert: native.frontend.server.certFile,
      key: native.frontend.server.keyFile,
      name: native.frontend.client.serverName,
    });
    for (const slot of ['TEMPORAL_TLS_CLIENT1_CA_CERT', 'TEMPORAL_TLS_CLIENT2_CA_CERT']) expect(native.frontend.server.clientCaFiles).toContain(server[slot]);

    // Every client of the frontend: patchwave's through exactly the variables the native cluster gives its
    // own workers and ingress; the CLI in the server and setup images the same; the UI server its own names.
    const client = clientTlsEnvironment(files);
    for (const name of ['patchwave-worker', 'patchwave-ingress', 'temporal-setup', 'temporal']) expect(mtls.services[name].environment, name).toMatchObject(client);
    for (const name of ['patchwave-worker', 'patchwave-ingress', 'temporal-setup', 'temporal-ui']) expect(services[name].environment?.TEMPORAL_ADDRESS, name).toBe(`${files.serverName}:${topology.ports.frontend}`);
    const nativeUi = (uiConfig(topology.ports, topology.namespace.name, files) as { tls: { caFile: string; certFile: string; keyFile: string; serverName: string; enableHostVerification: boolean } }).tls;
    expect(mtls.services['temporal-ui'].environment).toEqual({
      TEMPORAL_TLS_CA: nativeUi.caFile,
      TEMPORAL_TLS_CERT: nativeUi.certFile,
      TEMPORAL_TLS_KEY: nativeUi.keyFile,
      TEMPORAL_TLS_SERVER_NAME: nativeUi.serverName,
      TEMPORAL_TLS_ENABLE_HOST_VERIFICATION: String(nativeUi.enableHostVerification),
    });
    // Whatever talks to Temporal is in the overlay: nothing left on plain gRPC.
    const clients = Object.entries(services).filter(([, s]) => s.environment?.TEMPORAL_ADDRESS !== undefined).map(([name]) => name);
    for (const name of clients) expect(mtls.services, `${name} talks to Temporal`).toHaveProperty(name);
  });

  it('runs workers and the ingress on the task queue and namespace of the topology', () => {
    for (const name of ['patchwave-worker', 'patchwave-ingress']) {
      expect(services[name].environment?.PATCHWAVE_TASK_QUEUE, name).toBe(topology.patchwave.taskQueue);
      expect(services[name].environment?.TEMPORAL_NAMESPACE, name).toBe(topology.namespace.name);
    }
  });
});
