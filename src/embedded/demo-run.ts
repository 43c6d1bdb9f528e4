/**
 * What both demos share (`patchwave demo`, on the fleet simulator or on a local AWS sandbox): the
 * embedded Temporal with its codec, a worker on the demo's provider, and the loop that follows the
 * campaign — the live board or one line per change, with the demo playing the on-call operator —
 * until it ends. Each demo adds its fleet and its own proof of the end state.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { campaignResult, campaignStatus, operate, runningSteps } from '../client/campaigns';
import type { FleetProvider } from '../providers/port';
import { describeChanges, renderBoard } from '../report/board';
import { installRuntime } from '../telemetry';
import { connectClient, connectWorker } from '../temporal/connection';
import { createWorker } from '../worker';
import type { CampaignResult, CampaignStatus } from '../workflows/types';
import { startLocalCodec, type LocalCodec } from './codec';
import { freePort, startDevServer, type DevServer } from './dev-server';

export interface DemoOptions {
  json: boolean;
  stateDir: string;
  injectFailure: boolean;
  taskQueue: string;
}

/** What every demo's summary starts with: the campaign's own counts. */
export interface DemoCampaignSummary {
  campaignId: string;
  status: string;
  nodes: number;
  clusters: number;
  tiers: number;
  patched: number;
  /** Fixed kernel installed, old one running (no reboot allowed): back in service, not yet fixed. */
  pendingReboot: number;
  /** Services still running the replaced code (not restarted): back in service, not yet fixed. */
  restartPending: number;
  rolledBack: number;
  quarantined: number;
}

/**
 * Everything a demo started, stopped in reverse order whatever happens. The demo's own processes (the
 * simulator, the AWS sandbox) are added by the demo.
 */
export class DemoStack {
  private readonly stops: (() => Promise<unknown> | unknown)[] = [];
  /** Progress lines: stdout, or stderr when stdout carries the JSON summary. */
  readonly say: (message: string) => void;

  constructor(
    readonly options: DemoOptions,
    /** `patchwave demo` or `patchwave demo (aws)`: how each progress line starts. */
    readonly label: string,
  ) {
    this.say = (message) => (options.json ? process.stderr : process.stdout).write(`${message}\n`);
  }

  onStop(stop: () => Promise<unknown> | unknown): void {
    this.stops.unshift(stop);
  }

  /** Stops everything, best effort: one failing stop does not keep the rest running. */
  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) {
      try {
        await stop();
      } catch {
        // keep stopping the rest
      }
    }
  }

  /** A fresh state directory, the runtime, the dev server and the codec its UI decodes through. */
  async startTemporal(): Promise<{ server: DevServer; codec: LocalCodec }> {
    // The demo narrates failures itself; the SDK's per-activity warnings would only repeat them.
    installRuntime({ logLevel: 'ERROR' });
    // A fresh demo every time: the campaign id is a business key, and a finished campaign is never re-run.
    rmSync(this.options.stateDir, { recursive: true, force: true });
    // Payloads are always encrypted in the demos; the UI decodes them through a loopback codec server.
    const uiPort = await freePort();
    const codec = await startLocalCodec({ stateDir: this.options.stateDir, uiPort });
    this.onStop(() => codec.server.close());
    const server = await startDevServer({ stateDir: path.join(this.options.stateDir, 'temporal'), uiPort, extraArgs: codec.devServerArgs, say: this.say });
    this.onStop(() => server.stop());
    return { server, codec };
  }

  /** A worker on `provider` and a client, both with the demo's key. */
  async startWorker(server: DevServer, codec: LocalCodec, provider: FleetProvider): Promise<{ client: Client; namespace: string }> {
    const { connection: workerConnection, namespace, dataConverter } = await connectWorker({ address: server.address, namespace: server.namespace, keyring: codec.keyring, embedded: true });
    this.onStop(() => workerConnection.close());
    const worker = await createWorker({ connection: workerConnection, namespace, taskQueue: this.options.taskQueue, provider, dataConverter });
    const workerRun = worker.run();
    this.onStop(async () => {
      worker.shutdown();
      await workerRun;
    });
    const { client, connection } = await connectClient({ address: server.address, namespace, keyring: codec.keyring, embedded: true });
    this.onStop(() => connection.close());
    return { client, namespace };
  }

  /**
   * Follows the campaign until it ends: the live board on a terminal, else one line per change. The
   * demo plays the on-call operator: a halt for nodes that were rolled back cleanly is accepted
   * (`resume`, at most three times) — `afterRollback` says what that leaves the node on.
   */
  async follow(client: Client, campaignId: string, afterRollback: string): Promise<{ result: CampaignResult; last?: CampaignStatus }> {
    const interactive = !this.options.json && process.stdout.isTTY;
    let last: CampaignStatus | undefined;
    let resumedHalts = 0;
    const finished = client.workflow.getHandle(campaignId).result();
    finished.catch(() => undefined); // read again below through campaignResult
    for (;;) {
      const status = await campaignStatus(client, campaignId).catch(() => undefined);
      if (status) {
        if (interactive) process.stdout.write(`\x1b[2J\x1b[H${renderBoard(status, await runningSteps(client, status))}\n`);
        else for (const line of describeChanges(last, status)) this.say(line);
        if (status.phase === 'halted' && status.halts.every((h) => h.kind === 'node-failed') && status.counts.running === 0 && resumedHalts < 3) {
          this.say(`${this.label}: the campaign halted (${status.halts.map((h) => h.message).join('; ')})`);
          this.say(`${this.label}: as the operator, resuming: the node is back in service on ${afterRollback} and can be retried later`);
          await operate(client, campaignId, 'resume', { by: 'demo-operator', reason: 'node rolled back cleanly; accept and continue' });
          resumedHalts++;
        }
        last = status;
        if (['completed', 'aborted', 'failed'].includes(status.phase)) break;
      }
      // Poll every half second, or stop as soon as the campaign has returned.
      const done = await Promise.race([finished.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      if (done) break;
    }
    return { result: await campaignResult(client, campaignId), last };
  }
}

/** The Temporal UI's page of a campaign, when the dev server runs its UI. */
export function campaignUiLink(server: DevServer, namespace: string, campaignId: string): string | null {
  return server.uiUrl ? `${server.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(campaignId)}` : null;
}

/** The campaign's counts as every demo summary reports them (clusters and tiers from its last status). */
export function summarizeCampaign(result: CampaignResult, last: CampaignStatus | undefined): DemoCampaignSummary {
  return {
    campaignId: result.campaignId,
    status: result.status,
    nodes: result.counts.total,
    clusters: last?.tiers.reduce((n, t) => n + t.clusters.length, 0) ?? 0,
    tiers: last?.tiers.length ?? 0,
    patched: result.counts.patched,
    pendingReboot: result.counts.pendingReboot ?? 0,
    restartPending: result.counts.restartPending ?? 0,
    rolledBack: result.counts.rolledBack,
    quarantined: result.counts.quarantined,
  };
}
