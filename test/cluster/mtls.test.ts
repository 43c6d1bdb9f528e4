/**
 * Mutual TLS on the production-shaped Temporal server (`patchwave cluster up --tls`), started once
 * for this file: the frontend and the internode ports require a client certificate from the
 * cluster's CA. patchwave's worker, ingress and CLI connect only through the standard
 * TEMPORAL_TLS_* variables (@temporalio/envconfig), as a user's would; a small campaign goes through
 * all of them, and clients without the certificate — or with one from another CA — are refused by
 * the TLS handshake itself.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterDown, clusterUp } from '../../src/embedded/cluster/cluster';
import { withoutTemporalCredentials as withoutTls } from '../../src/embedded/cluster/patchwave-processes';
import { isRunning } from '../../src/embedded/cluster/processes';
import type { ClusterState } from '../../src/embedded/cluster/state';
import { clientTlsEnvironment, createCa, frontendConnectOptions, issueCertificate } from '../../src/embedded/cluster/tls';
import { REPO_ROOT, TSX } from '../../src/embedded/sim-process';
import { signPayload } from '../../src/ingress/auth';
import { SimAdminClient } from '../../src/providers/sim/client';
import { dataConverterFor } from '../../src/temporal/codec';
import { genericAlert } from '../ingress/support';
import { fastPolicy, testFleet, uniqueCve } from '../support/fleet';
import { harnessKeyring } from '../support/temporal';

const say = (m: string) => console.error(m);
const NODES = 4;

let stateDir: string;
let state: ClusterState;
let connection: Connection;
let client: Client;
let dataConverter: DataConverter | undefined;
/** A client certificate from a CA the cluster does not trust. */
let rogue: { crt: Buffer; key: Buffer };


/** `patchwave <args>` as a user runs it against the cluster; resolves with its exit code and output. */
function patchwave(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; output: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(TSX, [path.join(REPO_ROOT, 'src/cli/main.ts'), '--address', state.address, '--namespace', state.namespace, '--task-queue', state.taskQueue, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, output: `${stdout}${stderr}`, stdout }),
    );
  });
}

/**
 * One unary call without the client's retry interceptor, so the gRPC error is the transport's own
 * (the default interceptor retries UNAVAILABLE until the deadline and says only "deadline exceeded").
 */
async function systemInfo(port: number, tls: TLSConfig | undefined): Promise<unknown> {
  const probe = Connection.lazy({ address: `127.0.0.1:${port}`, tls, interceptors: [] });
  try {
    return await probe.withDeadline(Date.now() + 10_000, () => probe.workflowService.getSystemInfo({}));
  } finally {
    await probe.close();
  }
}

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  // Encrypted like the rest of the suite: the cluster's worker and ingress and the CLI inherit the key.
  dataConverter = dataConverterFor(harnessKeyring());
  stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-mtls-'));
  const rogueDir = path.join(stateDir, 'rogue');
  mkdirSync(rogueDir);
  createCa(path.join(rogueDir, 'ca.pem'), path.join(rogueDir, 'ca.key'), 'not the cluster CA');
  issueCertificate({ certFile: path.join(rogueDir, 'ca.pem'), keyFile: path.join(rogueDir, 'ca.key') }, { certFile: path.join(rogueDir, 'client.pem'), keyFile: path.join(rogueDir, 'client.key'), commonName: 'patchwave', usage: ['clientAuth'] });
  rogue = { crt: readFileSync(path.join(rogueDir, 'client.pem')), key: readFileSync(path.join(rogueDir, 'client.key')) };

  const started = Date.now();
  state = await clusterUp({ stateDir, workers: 1, fleet: testFleet([{ id: 'web', size: NODES, tier: 1 }]), avoidDefaultPorts: true, tls: { dir: path.join(stateDir, 'tls') }, say });
  say(`mtls test: cluster up in ${Math.round((Date.now() - started) / 1000)}s`);
  connection = await Connection.connect(frontendConnectOptions(state));
  client = new Client({ connection, namespace: state.namespace, dataConverter });
}, 600_000);

afterAll(async () => {
  await connection?.close();
  if (!stateDir) return;
  const recorded = Object.values(state?.processes ?? {});
  await clusterDown(stateDir, () => undefined);
  for (const p of recorded) expect(isRunning(p.pid), `${p.name} PID ${p.pid}`).toBe(false);
  rmSync(stateDir, { recursive: true, force: true });
}, 120_000);

describe('patchwave on a Temporal server that requires mTLS', () => {
  it('requires a client certificate from the cluster CA on the frontend and between the services, and listens on 127.0.0.1 only', async () => {
    const tls = state.tls!;
    expect(tls).toBeTruthy();
    // What the server was told: mTLS on the frontend and internode, the system worker with a certificate.
    const config = parse(readFileSync(path.join(stateDir, 'temporal', 'config', 'patchwave.yaml'), 'utf8')) as { global: { tls: Record<string, { server?: { requireClientAuth: boolean; clientCaFiles: string[] }; certFile?: string }> } };
    for (const group of ['frontend', 'internode']) expect(config.global.tls[group].server, group).toMatchObject({ requireClientAuth: true, clientCaFiles: [tls.caCert] });
    expect(config.global.tls.systemWorker.certFile).toBe(tls.serverCert);

    const ca = readFileSync(tls.caCert);
    const own = { crt: readFileSync(tls.clientCert), key: readFileSync(tls.clientKey) };
    const refusal = (port: number, config: TLSConfig | undefined) => systemInfo(port, config).then(() => 'answered', (err: { code?: number; details?: string }) => `${err.code} ${err.details ?? ''}`);

    // Plain gRPC: the TLS listener drops it.
    expect(await refusal(state.ports.frontend, undefined)).toMatch(/^14 No connection established/);
    // TLS that trusts the server but presents no certificate: the server's handshake alert.
    expect(await refusal(state.ports.frontend, { serverNameOverride: tls.serverName, serverRootCACertificate: ca })).toMatch(/^14 .*alert certificate required/);
    // A certificate from another CA.
    expect(await refusal(state.ports.frontend, { serverNameOverride: tls.serverName, serverRootCACertificate: ca, clientCertPair: rogue })).toMatch(/^14 .*alert unknown ca/);
    // A server that is not the one named: the client refuses it (TEMPORAL_TLS_SERVER_NAME matters).
    expect(await refusal(state.ports.frontend, { serverNameOverride: 'not-temporal', serverRootCACertificate: ca, clientCertPair: own })).toMatch(/^14 .*does not match certificate's altnames/);
    // Internode: the history service's port wants the same.
    expect(await refusal(state.ports.history, { serverNameOverride: tls.serverName, serverRootCACertificate: ca })).toMatch(/^14 .*alert certificate required/);
    // The worker's transport (Rust core) without a certificate is refused too.
    await expect(NativeConnection.connect({ address: state.address, tls: { serverNameOverride: tls.serverName, serverRootCACertificate: ca } })).rejects.toThrow(/CertificateRequired|transport error|connection closed/);
    // With the client certificate: the server answers.
    expect(await systemInfo(state.ports.frontend, { serverNameOverride: tls.serverName, serverRootCACertificate: ca, clientCertPair: own })).toHaveProperty('serverVersion');

    const pids = Object.values(state.processes).map((p) => p.pid);
    const listening = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => pids.some((pid) => line.includes(`pid=${pid},`)));
    expect(listening.length).toBeGreaterThanOrEqual(6);
    for (const line of listening) expect(line.split(/\s+/)[3], line).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('a campaign started by the CLI, joined through the ingress and run by the worker completes, all with the certificate from TEMPORAL_TLS_*; without it the CLI is refused', async () => {
    const tlsEnv = clientTlsEnvironment(state.tls!);
    // The worker and the ingress were given exactly the standard variables, nothing patchwave-specific.
    for (const name of ['worker-1', 'ingress']) {
      const environ = readFileSync(`/proc/${state.processes[name].pid}/environ`, 'utf8').split('\0');
      for (const [key, value] of Object.entries(tlsEnv)) expect(environ, `${name} ${key}`).toContain(`${key}=${value}`);
    }
    const env = { ...withoutTls(process.env), ...tlsEnv };
    const cve = uniqueCve();
    const alertFile = path.join(stateDir, 'alert.json');
    const policyFile = path.join(stateDir, 'policy.json');
    writeFileSync(alertFile, JSON.stringify(genericAlert(cve)));
    writeFileSync(policyFile, JSON.stringify(fastPolicy));

    const start = await patchwave(['alert', alertFile, '--policy', policyFile, '--provider', 'sim', '--json'], env);
    expect(start, start.output).toMatchObject({ code: 0 });
    const [campaign] = (JSON.parse(start.stdout) as { campaigns: { campaignId: string; started: boolean }[] }).campaigns;
    expect(campaign.started).toBe(true);

    // The same alert through the ingress: update-with-start over mTLS joins the running campaign.
    const body = JSON.stringify(genericAlert(cve));
    const timestamp = Math.floor(Date.now() / 1000);
    const { webhookSecret } = JSON.parse(readFileSync(path.join(stateDir, 'secrets.json'), 'utf8')) as { webhookSecret: string };
    const response = await fetch(`${state.ingressUrl}/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-patchwave-timestamp': String(timestamp), 'x-patchwave-signature': signPayload(webhookSecret, timestamp, body) },
      body,
    });
    const answer = (await response.json()) as { campaigns: { campaignId: string; joined: boolean }[] };
    expect(response.status, JSON.stringify(answer)).toBeLessThan(300);
    expect(answer.campaigns[0]).toMatchObject({ campaignId: campaign.campaignId, joined: true });

    // The worker ran it: judged by the fleet, not by the workflow's word.
    const result = await client.workflow.getHandle(campaign.campaignId).result();
    expect(result).toMatchObject({ status: 'completed', counts: { total: NODES, patched: NODES } });
    const monitor = await new SimAdminClient(state.simUrl!).monitor();
    expect(Object.values(monitor.patchedTimes)).toEqual(Array(NODES).fill(1));
    expect(monitor.capViolations).toBe(0);

    const status = await patchwave(['status', campaign.campaignId], env);
    expect(status, status.output).toMatchObject({ code: 0 });
    expect(status.output).toContain('completed');

    // The UI server reads the campaign through its own client certificate, and decodes through the codec server.
    const listed = await fetch(`${state.uiUrl}/api/v1/namespaces/${state.namespace}/workflows?query=${encodeURIComponent(`WorkflowId="${campaign.campaignId}"`)}`);
    expect(listed.status).toBe(200);
    expect(await listed.text()).toContain(campaign.campaignId);
    const settings = (await (await fetch(`${state.uiUrl}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(state.codecEndpoint);
    // The campaign's input, raw from the server (ciphertext), decoded by the codec server as the UI's page would ask.
    const { history } = await connection.workflowService.getWorkflowExecutionHistory({ namespace: state.namespace, execution: { workflowId: campaign.campaignId } });
    const input = history!.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    expect(Buffer.from(input.data!).toString()).not.toContain(cve);
    const decode = (endpoint: string) =>
      fetch(`${endpoint}/decode`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: state.uiUrl! },
        body: JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(input.metadata!).map(([k, v]) => [k, Buffer.from(v).toString('base64')])), data: Buffer.from(input.data!).toString('base64') }] }),
      });
    const decoded = (await (await decode(state.codecEndpoint!)).json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(cve);
    expect((await decode(state.codecEndpoint!.replace(/\/[^/]+$/, '/not-the-token'))).status).toBe(401);

    // The same command without the certificate: refused at the handshake, said in one line, exit 4.
    const refused = await patchwave(['status', campaign.campaignId], withoutTls(process.env));
    expect(refused.code).toBe(4);
    expect(refused.output).toMatch(/cannot reach Temporal at 127\.0\.0\.1:\d+ .*TLS/);
  }, 180_000);
});
