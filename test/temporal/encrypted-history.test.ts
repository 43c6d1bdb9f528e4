/**
 * Encryption end to end: a campaign with a rollback on the real dev server with the codec on, then
 * its raw history — and every child's, lease's and continued run's — read through the gRPC API
 * WITHOUT the codec. No node id (hostname, instance id), IP, package name, config path or snapshot
 * id may appear in the bytes of any payload (inputs, results, signals, updates, queries' answers
 * that land in history, memo, user metadata, search attributes, failure details). With the codec,
 * the audit report says exactly what the same campaign's report says without encryption.
 */
import type { Client } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignStatus, operate, startCampaign } from '../../src/client/campaigns';
import { collectReport } from '../../src/report/collect';
import type { CampaignReport } from '../../src/report/model';
import { Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { ENCRYPTED_ENCODING, dataConverterFor } from '../../src/temporal/codec';
import { generateKeyEntry, parseKeyring } from '../../src/temporal/keys';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim } from '../support/sim';
import { createHarness, eventually, harnessKeyring, uniqueTaskQueue, withWorker, type Harness } from '../support/temporal';
import { PATCH_CAMPAIGN_WORKFLOW } from '../../src/workflows/messages';

const IP = '10.20.30.41';
const CONFIG_PATH = '/etc/hosts.allow';

/** Nodes named as real fleets name them: EC2 instance ids in tier 1, host names in tier 2; an IP in a config file. */
function sensitiveFleet() {
  const fleet = testFleet([{ id: 'edge', size: 4, tier: 1 }, { id: 'pg', size: 3, tier: 2 }], [{ kind: 'patch-fails', node: 'i-0a1b2c3d4e5f6a702' }]);
  fleet.clusters[0].nodes.forEach((n, i) => (n.id = `i-0a1b2c3d4e5f6a7${String(i + 1).padStart(2, '0')}`));
  fleet.clusters[1].nodes.forEach((n, i) => (n.id = `pgdb${i + 1}.payments.corp.example`));
  for (const cluster of fleet.clusters) for (const node of cluster.nodes) node.configFiles = { ...node.configFiles, [CONFIG_PATH]: `sshd: ${IP}\n` };
  return fleet;
}

type Obj = Record<string, unknown>;
interface RawPayload {
  metadata?: Record<string, Uint8Array | null> | null;
  data?: Uint8Array | null;
}

/** Every payload in a proto object tree: anything with `data` bytes and a `metadata` map. */
function payloadsIn(value: unknown, into: RawPayload[] = []): RawPayload[] {
  if (!value || typeof value !== 'object' || ArrayBuffer.isView(value)) return into;
  if (Array.isArray(value)) {
    for (const item of value) payloadsIn(item, into);
    return into;
  }
  const obj = value as Obj;
  if ('metadata' in obj && 'data' in obj && (obj.data == null || obj.data instanceof Uint8Array)) {
    into.push(obj as RawPayload);
    return into;
  }
  for (const child of Object.values(obj)) payloadsIn(child, into);
  return into;
}

function payloadBytes(payload: RawPayload): Buffer {
  return Buffer.concat([...Object.entries(payload.metadata ?? {}).flatMap(([k, v]) => [Buffer.from(k), Buffer.from(v ?? new Uint8Array())]), Buffer.from(payload.data ?? new Uint8Array())]);
}

/**
 * Strings outside payloads (failure messages, activity types, ids…), with their field names; workflow
 * ids are business keys (campaign:<CVE>:<scope>/node:<node>) and are listed apart.
 */
function plainStrings(value: unknown, key = '', into: { key: string; text: string }[] = []): { key: string; text: string }[] {
  if (typeof value === 'string') into.push({ key, text: value });
  else if (value && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    const obj = value as Obj;
    if ('metadata' in obj && 'data' in obj) return into;
    for (const [k, child] of Object.entries(obj)) plainStrings(child, Array.isArray(value) ? key : k, into);
  }
  return into;
}

/** Strings in a decoded report, to find the snapshot ids the campaign recorded. */
function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value && typeof value === 'object') for (const child of Object.values(value)) stringsIn(child, into);
  return into;
}

/** Everything in a report that depends on when it ran or under which CVE, replaced; the rest must match. */
function normalized(report: CampaignReport, cve: string): unknown {
  const timeKey = /(At|Ms|ms|Time|time|[Dd]uration|elapsed|Seconds|Until|deadline)$/;
  const walk = (value: unknown, key = ''): unknown => {
    if (typeof value === 'string') return value.replaceAll(cve, '<cve>').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
    if (typeof value === 'number') return timeKey.test(key) ? '<number>' : value;
    if (Array.isArray(value)) return value.map((v) => walk(v, key));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  return walk({ ...report, generatedAt: undefined });
}

let encrypted: Harness;
let plain: Harness;

beforeAll(async () => {
  [encrypted, plain] = await Promise.all([createHarness(), createHarness({ encryption: false })]);
});
afterAll(async () => {
  await encrypted?.close();
  await plain?.close();
});

/** The campaign with its rollback: halts on the failed node, the operator resumes, it completes. */
async function runCampaign(harness: Harness, cve: string): Promise<{ campaignId: string; taskQueue: string; report: CampaignReport }> {
  const sim = await startTestSim(sensitiveFleet());
  const taskQueue = uniqueTaskQueue('encrypted');
  try {
    return await withWorker(harness, sim.provider, taskQueue, async () => {
      const handle = await startCampaign(harness.client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, maxNodesInFlight: 2 }, taskQueue });
      await eventually('the halt on the failed node', async () => {
        const s = await campaignStatus(harness.client, handle.workflowId);
        return s.phase === 'halted' && s.counts.running === 0;
      });
      await operate(harness.client, handle.workflowId, 'resume', { by: 'test-operator', reason: 'rolled back cleanly' });
      await handle.result();
      return { campaignId: handle.workflowId, taskQueue, report: await collectReport(harness.client, handle.workflowId) };
    });
  } finally {
    await sim.close();
  }
}

describe('payload encryption end to end', () => {
  it('leaves no host, instance, IP, package or snapshot id in any raw payload; the report is the same as without encryption', async () => {
    const cve = uniqueCve();
    const secret = await runCampaign(encrypted, cve);
    const reference = await runCampaign(plain, uniqueCve());
    expect(secret.report.status.phase).toBe('completed');
    expect(secret.report.result?.counts.rolledBack).toBe(1);

    // What must not leak: every node id, the IP, the package names, the config path, every snapshot id.
    const fleet = sensitiveFleet();
    const snapshotIds = [...new Set(stringsIn(secret.report).filter((s) => /^snap-/.test(s)))];
    expect(snapshotIds.length).toBeGreaterThan(0);
    const needles = [...fleet.clusters.flatMap((c) => c.nodes.map((n) => n.id)), IP, 'openssh-server', 'openssl', CONFIG_PATH, ...snapshotIds];

    // Every execution on the campaign's task queue (the campaign's runs, node children, cluster leases), raw.
    const raw: Client = new (encrypted.client.constructor as typeof Client)({ connection: encrypted.client.connection, namespace: 'default' });
    // Visibility's records too (memo and search attributes as listed).
    let visibilityPayloads: RawPayload[] = [];
    const executions = await eventually('every execution in visibility', async () => {
      visibilityPayloads = [];
      // The raw list call: the client's list() decodes memos, which it cannot without the codec.
      const found: { workflowId: string; runId: string }[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await raw.workflowService.listWorkflowExecutions({ namespace: 'default', query: `TaskQueue = '${secret.taskQueue}'`, nextPageToken });
        for (const e of page.executions) found.push({ workflowId: e.execution!.workflowId!, runId: e.execution!.runId! });
        payloadsIn(page.executions, visibilityPayloads);
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      // 7 node workflows + the failed node's… nothing else: at least the campaign, 7 nodes and 2 leases.
      return found.length >= 10 && found;
    });
    let payloadCount = 0;
    let encryptedCount = 0;
    const hits: string[] = [];
    const idFields = new Set<string>();
    const outsidePayloads = new Set<string>();
    const check = (workflowId: string, payloads: RawPayload[]) => {
      for (const payload of payloads) {
        payloadCount++;
        const encoding = Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString();
        if (encoding === ENCRYPTED_ENCODING) encryptedCount++;
        const bytes = payloadBytes(payload);
        for (const needle of needles) if (bytes.includes(needle)) hits.push(`${workflowId}: "${needle}" in a ${encoding} payload`);
      }
    };
    check('visibility', visibilityPayloads);
    for (const { workflowId, runId } of executions) {
      const history = await raw.workflow.getHandle(workflowId, runId).fetchHistory();
      const description = await raw.workflowService.describeWorkflowExecution({ namespace: 'default', execution: { workflowId, runId } });
      const payloads = [...payloadsIn(history.events), ...payloadsIn(description.workflowExecutionInfo?.memo), ...payloadsIn(description.executionConfig?.userMetadata)];
      check(workflowId, payloads);
      for (const { key, text } of plainStrings(history.events)) {
        for (const needle of needles) if (text.includes(needle)) (/workflowId$/i.test(key) ? idFields : outsidePayloads).add(`${key}: ${needle}`);
      }
    }
    // Outside payloads only ids may name a node: workflow ids are business keys by design (docs/security.md).
    console.log(`outside payloads: node names in id fields ${[...new Set([...idFields].map((f) => f.split(':')[0]))].join(', ') || 'none'}; elsewhere: ${[...outsidePayloads].join('; ') || 'none'}`);
    expect([...outsidePayloads]).toEqual([]);
    console.log(`raw-history check: ${executions.length} executions, ${payloadCount} payloads (${encryptedCount} encrypted; the plain ones are search attributes and the SDK core's marker data), ${needles.length} needles, ${hits.length} hits`);
    expect(hits).toEqual([]);
    expect(encryptedCount).toBeGreaterThan(executions.length);
    // Plain by design: the indexed search attributes (CVE id, status, tier, severity) and patch markers / local activity bookkeeping.
    expect(payloadCount - encryptedCount).toBeGreaterThan(0);

    // The control: the same campaign without encryption has the secrets in its payloads, so the search above can find them.
    const [referenceRun] = await eventually('the reference campaign', async () => {
      const found = [];
      for await (const wf of plain.client.workflow.list({ query: `TaskQueue = '${reference.taskQueue}' AND WorkflowType = '${PATCH_CAMPAIGN_WORKFLOW}'` })) found.push(wf);
      return found.length > 0 && found;
    });
    const referenceBytes = Buffer.concat(payloadsIn((await plain.client.workflow.getHandle(referenceRun.workflowId, referenceRun.runId).fetchHistory()).events).map(payloadBytes));
    expect(referenceBytes.includes('i-0a1b2c3d4e5f6a702')).toBe(true);
    expect(referenceBytes.includes('openssh-server')).toBe(true);

    // Without the codec a client cannot read the report; with it, the report says what the plain one says.
    expect(normalized(secret.report, cve)).toEqual(normalized(reference.report, reference.report.status.cveId ?? ''));
  }, 180_000);

  it('a worker without the key fails the task naming the key id, keeps running, and the campaign goes on once a worker has it', async () => {
    const sim = await startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }]));
    const taskQueue = uniqueTaskQueue('wrong-key');
    try {
      const handle = await startCampaign(encrypted.client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
      const keyId = harnessKeyring().current.id;
      const wrong = await Worker.create({
        connection: encrypted.nativeConnection,
        namespace: 'default',
        taskQueue,
        workflowBundle: encrypted.bundle,
        dataConverter: dataConverterFor(parseKeyring(generateKeyEntry('other'), 'PATCHWAVE_CODEC_KEYS')),
        activities: createActivities({ provider: sim.provider }),
      });
      const message = await wrong.runUntil(
        eventually('a failed workflow task', async () => {
          const events = (await handle.fetchHistory()).events ?? [];
          return events.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
        }),
      );
      expect(message).toContain(`"${keyId}"`);
      expect(message).toMatch(/not among the configured keys/);
      // The worker was not brought down by it (runUntil returned normally); a worker with the key finishes the campaign.
      const result = await withWorker(encrypted, sim.provider, taskQueue, () => handle.result());
      expect(result.status).toBe('completed');
    } finally {
      await sim.close();
    }
  }, 120_000);
});
