/**
 * The Temporal UI decodes encrypted payloads through the codec server, as `dev` and `demo` wire it:
 * a dev server of its own started with `--ui-codec-endpoint`, a loopback codec server with a
 * generated key, an encrypted campaign, and headless Chromium on the campaign's page. The input
 * shows decoded (the alert's package name), the raw history holds only ciphertext, and the codec
 * server saw the browser's requests from the UI's origin.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { startCampaign } from '../../src/client/campaigns';
import { startLocalCodec, type LocalCodec } from '../../src/embedded/codec';
import { freePort, startDevServer, type DevServer } from '../../src/embedded/dev-server';
import { dataConverterFor } from '../../src/temporal/codec';
import { bundleWorkflows } from '../../src/worker';
import { withBrowser } from '../support/browser';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { eventually, uniqueTaskQueue } from '../support/temporal';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const artifacts = path.join(root, 'test-artifacts');

let server: DevServer;
let codec: LocalCodec;
let stateDir: string;
let sim: TestSim;
let connection: Connection;
let client: Client;
let nativeConnection: NativeConnection;
let campaignId: string;

beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-codec-ui-'));
  const uiPort = await freePort();
  // No PATCHWAVE_CODEC_KEYS here: the dev path's own generated key (the harness may have set one for this process).
  const saved = { keys: process.env.PATCHWAVE_CODEC_KEYS, file: process.env.PATCHWAVE_CODEC_KEYS_FILE };
  delete process.env.PATCHWAVE_CODEC_KEYS;
  delete process.env.PATCHWAVE_CODEC_KEYS_FILE;
  try {
    codec = await startLocalCodec({ stateDir, uiPort });
  } finally {
    if (saved.keys) process.env.PATCHWAVE_CODEC_KEYS = saved.keys;
    if (saved.file) process.env.PATCHWAVE_CODEC_KEYS_FILE = saved.file;
  }
  [server, sim] = await Promise.all([
    startDevServer({ stateDir, inMemory: true, uiPort, extraArgs: codec.devServerArgs, say: () => undefined }),
    startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }])),
  ]);
  const dataConverter = dataConverterFor(codec.keyring);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace, dataConverter });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  const taskQueue = uniqueTaskQueue('codec-ui');
  const worker = await Worker.create({ connection: nativeConnection, namespace: server.namespace, taskQueue, workflowBundle: await bundleWorkflows(), dataConverter, activities: createActivities({ provider: sim.provider }) });
  await worker.runUntil(async () => {
    const handle = await startCampaign(client, { alert: testAlert(uniqueCve()), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
    await handle.result();
    campaignId = handle.workflowId;
  });
  mkdirSync(artifacts, { recursive: true });
}, 180_000);

afterAll(async () => {
  await nativeConnection?.close();
  await connection?.close();
  await server?.stop();
  await codec?.server.close();
  await sim?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('the Temporal UI with payload encryption', () => {
  it("shows a campaign's input decoded through the codec server", async () => {
    // The control: what the server stores is ciphertext.
    const history = await client.workflow.getHandle(campaignId).fetchHistory();
    const input = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    expect(Buffer.from(input.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect(Buffer.from(input.data!).includes('openssh-server')).toBe(false);

    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1400 } });
      const codecCalls: { url: string; status: number }[] = [];
      page.on('response', (response) => {
        if (response.url().startsWith(codec.server.url)) codecCalls.push({ url: response.url(), status: response.status() });
      });
      await page.goto(`${server.uiUrl}/namespaces/${server.namespace}/workflows/${encodeURIComponent(campaignId)}`);
      // The decoded input: the alert's package and fixed version, as JSON in the Input panel.
      const shown = (text: string) =>
        eventually(
          `"${text}" on the campaign's page`,
          async () => {
            for (const frame of page.frames()) if ((await frame.getByText(text).count()) > 0) return true;
            // Code panels render the JSON in editors whose text the locator may split; the page's text is the fallback.
            return (await page.content()).includes(text);
          },
          30_000,
          500,
        );
      await shown('openssh-server');
      await shown('9.8.1');
      await page.screenshot({ path: path.join(artifacts, 'temporal-ui-codec-decoded.png'), fullPage: true });
      const decodes = codecCalls.filter((c) => c.url.endsWith('/decode'));
      expect(decodes.length).toBeGreaterThan(0);
      expect(decodes.every((c) => c.status === 200)).toBe(true);
    });
  }, 90_000);
});
