/**
 * Finding a campaign in the Temporal UI by its CVE: a dev server of its own WITH the web UI, two
 * campaigns for two CVEs, and a real headless Chromium on the workflow list filtered by
 * `PatchwaveCveId`. The filter must show the one campaign and hide the other.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../src/activities';
import { startCampaign } from '../../src/client/campaigns';
import { freePort, startDevServer, type DevServer } from '../../src/embedded/dev-server';
import { bundleWorkflows } from '../../src/worker';
import { withBrowser } from '../support/browser';
import { fastPolicy, testAlert, testFleet, uniqueCve } from '../support/fleet';
import { startTestSim, type TestSim } from '../support/sim';
import { eventually, uniqueTaskQueue } from '../support/temporal';

const root = path.resolve(new URL('../..', import.meta.url).pathname);
const artifacts = path.join(root, 'test-artifacts');

let server: DevServer;
let stateDir: string;
let sim: TestSim;
let connection: Connection;
let client: Client;
const campaigns: { cve: string; id: string }[] = [];
/** A campaign left waiting for its approval, so its page shows live details (the worker answers the UI's query). */
let waiting: { cve: string; id: string };
let worker: Worker;
let workerRun: Promise<void>;
let nativeConnection: NativeConnection;

beforeAll(async () => {
  // Worker lifecycle chatter drowns test output; warnings and errors still show.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  stateDir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-ui-'));
  const [dev, testSim, bundle] = await Promise.all([
    startDevServer({ stateDir, inMemory: true, uiPort: await freePort(), say: () => undefined }),
    startTestSim(testFleet([{ id: 'web', size: 2, tier: 1 }])),
    bundleWorkflows(),
  ]);
  server = dev;
  sim = testSim;
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection, namespace: server.namespace });
  nativeConnection = await NativeConnection.connect({ address: server.address });
  const taskQueue = uniqueTaskQueue('ui');
  worker = await Worker.create({ connection: nativeConnection, namespace: server.namespace, taskQueue, workflowBundle: bundle, activities: createActivities({ provider: sim.provider }) });
  workerRun = worker.run();
  // The second CVE's campaign runs after the first, on the same fleet (its nodes are then fixed).
  for (const cve of [uniqueCve(), uniqueCve()]) {
    const handle = await startCampaign(client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy: fastPolicy, taskQueue });
    await handle.result();
    campaigns.push({ cve, id: handle.workflowId });
  }
  const cve = uniqueCve();
  const handle = await startCampaign(client, { alert: testAlert(cve), fleet: { provider: 'sim', scope: 'all' }, policy: { ...fastPolicy, requireApproval: true }, taskQueue });
  waiting = { cve, id: handle.workflowId };
  mkdirSync(artifacts, { recursive: true });
}, 120_000);

afterAll(async () => {
  worker?.shutdown();
  await workerRun;
  await nativeConnection?.close();
  await connection?.close();
  await server?.stop();
  await sim?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('the Temporal UI', () => {
  it('lists a campaign when filtered by its CVE id, and not a campaign of another CVE', async () => {
    const [wanted, other] = campaigns;
    expect(wanted.cve).not.toBe(other.cve);
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      const open = async (cve: string) => {
        const query = encodeURIComponent(`PatchwaveCveId="${cve}"`);
        await page.goto(`${server.uiUrl}/namespaces/${server.namespace}/workflows?query=${query}`);
      };

      await open(wanted.cve);
      await page.getByText(wanted.id, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
      await expect(page.getByText(other.id, { exact: true }).count()).resolves.toBe(0);
      await page.screenshot({ path: path.join(artifacts, 'temporal-ui-filter.png'), fullPage: true });

      // The control: the other campaign is there under its own CVE, so its absence above is the filter's doing.
      await open(other.cve);
      await page.getByText(other.id, { exact: true }).first().waitFor({ state: 'visible', timeout: 30_000 });
      await expect(page.getByText(wanted.id, { exact: true }).count()).resolves.toBe(0);
    });
  }, 60_000);

  it("shows a campaign's summary, details and live status on its page", async () => {
    await withBrowser(async (browser) => {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1200 } });
      await page.goto(`${server.uiUrl}/namespaces/${server.namespace}/workflows/${encodeURIComponent(waiting.id)}`);
      await page.getByText('User Metadata', { exact: true }).first().click({ timeout: 30_000 });
      // The UI renders the Markdown in frames of its own: look in every frame.
      const shown = (text: string | RegExp) =>
        eventually(`"${text}" on the campaign's page`, async () => {
          for (const frame of page.frames()) if ((await frame.getByText(text).count()) > 0) return true;
          return false;
        });
      // The static summary and details, set at start.
      await shown(`Patch ${waiting.cve} on scope all (sim)`);
      await shown(/Fix: openssh-server ≥ 9\.8\.1/);
      // The current details, kept by the campaign itself: what it waits for and what answers it.
      await shown(/awaiting-approval/);
      await shown(/patchwave approve/);
      await page.screenshot({ path: path.join(artifacts, 'temporal-ui-campaign-page.png'), fullPage: true });
    });
  }, 60_000);
});
