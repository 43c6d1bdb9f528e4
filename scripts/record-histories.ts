/**
 * Records the workflow histories the replay test replays (test/histories/*.json): a campaign with a
 * rolled-back node, an operator resume and a gate, plus one node saga of each outcome. Run it after
 * a deliberate, versioned change to workflow code — never to "fix" a failing replay test:
 *
 *   node_modules/.bin/tsx scripts/record-histories.ts v3          # the next version's file prefix
 *   node_modules/.bin/tsx scripts/record-histories.ts v4 lease    # only the files whose name starts with "lease"
 *
 * Besides the campaign and two node sagas it records the lease workflow of cluster `web` (a grant and
 * the campaign's release).
 *
 * It runs the campaign encrypted, as production does (PATCHWAVE_CODEC_KEYS, or a key generated for
 * the run), and writes the histories decoded: the fixtures are test data and must replay without a key.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { campaignStatus, operate, startCampaign } from '../src/client/campaigns';
import { leaseStatusQuery } from '../src/workflows/messages';
import { clusterLeaseWorkflowId, nodeWorkflowId } from '../src/domain/ids';
import { startDevServer } from '../src/embedded/dev-server';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { codecChain, dataConverterFor, payloadCodecsFor } from '../src/temporal/codec';
import { decodeHistory } from '../src/temporal/history-codec';
import { generateKeyEntry, keyringFromEnvironment, parseKeyring } from '../src/temporal/keys';
import { SimFleetProvider } from '../src/providers/sim/client';
import { startSimServer } from '../src/providers/sim/server';
import { bundleWorkflows } from '../src/worker';
import { fastPolicy, testAlert, testFleet } from '../test/support/fleet';

Runtime.install({ logger: new DefaultLogger('WARN') });
const dir = mkdtempSync(path.join(tmpdir(), 'patchwave-record-'));
const server = await startDevServer({ stateDir: path.join(dir, 'temporal'), inMemory: true, headless: true });
const sim = await startSimServer({
  stateDir: path.join(dir, 'sim'),
  fleet: testFleet([{ id: 'web', size: 4, tier: 1 }, { id: 'db', size: 4, tier: 2 }], [{ kind: 'patch-fails', node: 'web-02' }]),
  port: 0,
});
const keyring = keyringFromEnvironment() ?? parseKeyring(generateKeyEntry('record'), 'a key generated for this recording');
const dataConverter = dataConverterFor(keyring);
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, dataConverter });
const nativeConnection = await NativeConnection.connect({ address: server.address });
const taskQueue = 'record-histories';
const worker = await Worker.create({ connection: nativeConnection, taskQueue, workflowBundle: await bundleWorkflows(), dataConverter, activities: createActivities({ provider: new SimFleetProvider(sim.url) }) });
const out = path.join(import.meta.dirname, '..', 'test', 'histories');

await worker.runUntil(async () => {
  const handle = await startCampaign(client, {
    alert: testAlert('CVE-2024-6387'),
    fleet: { provider: 'sim', scope: 'all' },
    // A fleet-wide limit, so the budget order (patched('budget-critical-paths-first')) is in the history.
    policy: { ...fastPolicy, tierMonitoringWindow: 100, maxNodesInFlight: 3 },
    taskQueue,
  });
  for (;;) {
    const s = await campaignStatus(client, handle.workflowId);
    if (s.phase === 'halted' && s.counts.running === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await operate(client, handle.workflowId, 'resume', { by: 'recorder', reason: 'accept rollback' });
  await handle.result();
  // Histories of earlier versions stay: they prove running campaigns survive an upgrade.
  const indexPath = path.join(out, 'index.json');
  const index: Record<string, string> = existsSync(indexPath) ? JSON.parse(readFileSync(indexPath, 'utf8')) : {};
  const version = process.argv[2] ?? 'v2';
  const only = process.argv[3];
  const save = async (workflowId: string, file: string) => {
    if (only && !file.startsWith(only)) return;
    // Decoded, then the proto3 JSON that `historyFromJSON` reads back (as `temporal workflow show --output json` writes it).
    const history = await decodeHistory(await client.workflow.getHandle(workflowId).fetchHistory(), codecChain(payloadCodecsFor(keyring)));
    writeFileSync(path.join(out, `${version}-${file}`), historyToJSON(history));
    index[`${version}-${file}`] = workflowId;
    console.log(`recorded ${workflowId} → test/histories/${version}-${file}`);
  };
  await save(handle.workflowId, 'campaign-rollback-resume.json');
  await save(nodeWorkflowId(handle.workflowId, 'web-01'), 'node-patched.json');
  await save(nodeWorkflowId(handle.workflowId, 'web-02'), 'node-rolled-back.json');
  // The lease workflow outlives the campaign (it idles before it exits): once it has let go of the
  // cluster, its history holds the acquire, the grant and the release.
  const lease = client.workflow.getHandle(clusterLeaseWorkflowId(taskQueue, 'web'));
  while ((await lease.query(leaseStatusQuery)).holder !== null) await new Promise((r) => setTimeout(r, 100));
  await save(lease.workflowId, 'lease-granted-released.json');
  // Replay needs each history's original workflow id (child ids are derived from it).
  writeFileSync(indexPath, `${JSON.stringify(index, null, 2)}\n`);
});
await nativeConnection.close();
await connection.close();
await sim.close();
await server.stop();
rmSync(dir, { recursive: true, force: true });
