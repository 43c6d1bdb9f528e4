/**
 * `patchwave demo --provider aws`: the demo on the AWS provider, against a local AWS sandbox instead
 * of the fleet simulator. Everything runs on this machine and no AWS account is touched:
 *
 * - the embedded Temporal dev server;
 * - moto server (installed with pip into ~/.cache/patchwave/moto-venv on first use), behind the fault
 *   layer and the node emulator (src/providers/aws/local/), seeded with an Auto Scaling group of 4
 *   web instances behind an internet-facing load balancer, and one of 2 database instances;
 * - a worker with the real AWS provider (AWS SDK v3) pointed at the sandbox's endpoint;
 * - a campaign for CVE-2024-6387 in which one web node's patch fails (and, while it runs, the group's
 *   launch template moves on): the saga rolls it back — launch template version first, then root and
 *   data volumes from its snapshots — and the campaign halts. The demo plays the operator and resumes.
 *
 * The summary's end state is read back from moto with plain SDK calls, not from the workflow.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { campaignResult, campaignStatus, operate, startCampaign } from '../client/campaigns';
import type { NormalizedAlert } from '../domain/alert';
import { clusterCap, parsePolicy, type PolicyInput } from '../domain/policy';
import { describeChanges, renderBoard } from '../report/board';
import { runningSteps } from '../client/campaigns';
import { AwsFleetProvider } from '../providers/aws/provider';
import { sandboxClients, standbyHistory, startLocalAwsSandbox, type LocalAwsSandbox } from '../providers/aws/local/sandbox';
import { moveLaunchTemplateDuringPatch, readSandboxEndState, type SandboxEndState } from '../providers/aws/local/scenario';
import { DEMO_FIXED_PACKAGES, DEMO_PACKAGES, seedFleet, type SeededFleet } from '../providers/aws/seed';
import { installRuntime } from '../telemetry';
import { connectClient, connectWorker } from '../temporal/connection';
import { createWorker } from '../worker';
import type { CampaignStatus } from '../workflows/types';
import { demoAlert, demoPolicy } from './demo-scenario';
import { startLocalCodec } from './codec';
import { freePort, startDevServer } from './dev-server';

export interface AwsDemoOptions {
  json: boolean;
  stateDir: string;
  injectFailure: boolean;
  taskQueue: string;
}

export interface AwsDemoSummary {
  provider: 'aws';
  campaignId: string;
  status: string;
  nodes: number;
  clusters: number;
  tiers: number;
  patched: number;
  pendingReboot: number;
  restartPending: number;
  rolledBack: number;
  quarantined: number;
  /** From the fault layer's call log — what Auto Scaling was asked — not the workflow: most members of one group in Standby at once. */
  maxOutOfServiceAtOnce: number;
  /** Groups that ever had more members in Standby than the policy's cap allows. */
  capViolations: number;
  // ---- the end state, read from moto ----
  /** Group members still in Standby. */
  instancesInStandby: number;
  /** Group members registered and healthy in their target group. */
  registeredTargets: number;
  /** Snapshots tagged with the campaign (root and data volume of every node patched or rolled back). */
  snapshots: number;
  /** Instances whose root volume was replaced from their pre-patch snapshot (the rolled-back ones). */
  rootVolumesRestored: number;
  /** The web group's launch template version at the end (`1`: pinned back by the rollback). */
  launchTemplateVersion: string | null;
  /** Instances whose (emulated) OS has the fixed openssh-server / still the old one. */
  nodesAtFixedVersion: number;
  nodesAtOldVersion: number;
  /** End-state checks that failed; empty when the sandbox looks as it should. */
  problems: string[];
  durationSeconds: number;
  temporalUi: string | null;
}

/** The demo's alert, for the sandbox's Ubuntu 22.04 nodes: the fixed build as dpkg compares it. */
export function awsDemoAlert(): NormalizedAlert {
  return { ...demoAlert('all'), packages: [{ name: 'openssh-server', fixedVersion: DEMO_FIXED_PACKAGES['openssh-server'], ecosystem: 'dpkg' }] };
}

export const awsDemoPolicy: PolicyInput = { ...demoPolicy, snapshotRetentionDays: 7 };

const SNAPSHOTS_PER_NODE = 2; // root and the /dev/sdf data volume

export async function runAwsDemo(options: AwsDemoOptions): Promise<AwsDemoSummary> {
  const say = (message: string) => (options.json ? process.stderr : process.stdout).write(`${message}\n`);
  const started = Date.now();
  // The demo narrates failures itself; the SDK's per-activity warnings would only repeat them.
  installRuntime({ logLevel: 'ERROR' });
  // A fresh demo every time: the campaign id is a business key, and a finished campaign is never re-run.
  rmSync(options.stateDir, { recursive: true, force: true });
  say('patchwave demo (aws): starting the embedded Temporal dev server, a local AWS sandbox (moto) and a worker with the AWS provider');
  say('patchwave demo (aws): nothing here talks to AWS — the SDK endpoint is a loopback moto server with dummy credentials');
  // Encrypted like the sim demo; the UI decodes through a loopback codec server.
  const uiPort = await freePort();
  const codec = await startLocalCodec({ stateDir: options.stateDir, uiPort });
  const server = await startDevServer({ stateDir: path.join(options.stateDir, 'temporal'), uiPort, extraArgs: codec.devServerArgs, say });
  let sandbox: LocalAwsSandbox | undefined;
  const stops: (() => Promise<void> | void)[] = [() => codec.server.close(), () => server.stop()];
  try {
    sandbox = await startLocalAwsSandbox({ pollsInProgress: 3, log: (m) => say(`patchwave demo (aws): ${m}`) });
    const box = sandbox;
    stops.unshift(() => box.stop());
    say(`patchwave demo (aws): moto server at ${box.moto.endpoint}; the provider's SDK clients use the fault layer in front of it at ${box.endpoint}`);

    const seedClients = box.clients({ direct: true });
    let web: SeededFleet;
    let db: SeededFleet;
    try {
      web = await seedFleet(seedClients, { name: 'web', size: 4, role: 'public-web', dataSensitivity: 'low', dataVolume: true });
      db = await seedFleet(seedClients, { name: 'db', size: 2, role: 'database', dataSensitivity: 'high', dataVolume: true, tags: { 'patchwave:exposure': 'internal' } });
    } finally {
      seedClients.destroy();
    }
    const fleets = [web, db];
    say(`patchwave demo (aws): seeded Auto Scaling groups ${web.autoScalingGroupName} (4 instances behind an internet-facing ALB) and ${db.autoScalingGroupName} (2 database instances), openssh-server ${DEMO_PACKAGES['openssh-server']}`);

    const providerClients = sandboxClients(box.endpoint, { region: box.region, maxAttempts: 3 });
    stops.unshift(() => providerClients.destroy());
    const provider = new AwsFleetProvider({
      clients: providerClients,
      packageSource: 'tags',
      pollIntervalMs: 200,
      snapshotTimeoutMs: 60_000,
      commandTimeoutMs: 60_000,
      rejoinTimeoutMs: 60_000,
      restoreTimeoutMs: 120_000,
      baselineOverrideBucket: box.overrideBucket,
    });
    let failing: string | undefined;
    if (options.injectFailure) {
      // The inventory's order picks the canary (first) and the rescue node (last): fail the second.
      failing = (await provider.listInventory('web'))[1]?.id;
      if (failing) {
        box.emulator.failNextPatch(failing);
        moveLaunchTemplateDuringPatch(box, web, failing);
        say(`patchwave demo (aws): injected: the patch on ${failing} will fail (package mirror unreachable), and a new launch template version appears while it runs`);
      }
    }

    const { connection: workerConnection, namespace, dataConverter } = await connectWorker({ address: server.address, namespace: server.namespace, keyring: codec.keyring });
    stops.unshift(() => workerConnection.close());
    const worker = await createWorker({ connection: workerConnection, namespace, taskQueue: options.taskQueue, provider, dataConverter });
    const workerRun = worker.run();
    stops.unshift(async () => {
      worker.shutdown();
      await workerRun;
    });
    const { client, connection } = await connectClient({ address: server.address, namespace, keyring: codec.keyring });
    stops.unshift(() => connection.close());

    const alert = awsDemoAlert();
    const handle = await startCampaign(client, { alert, fleet: { provider: 'aws', scope: 'all' }, policy: awsDemoPolicy, taskQueue: options.taskQueue });
    const uiLink = server.uiUrl ? `${server.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(handle.workflowId)}` : null;
    say(`patchwave demo (aws): campaign ${handle.workflowId} started for ${alert.cveId} (${alert.title})`);
    if (uiLink) say(`patchwave demo (aws): watch it in the Temporal UI: ${uiLink}`);

    const interactive = !options.json && process.stdout.isTTY;
    let previous: CampaignStatus | undefined;
    let resumedHalts = 0;
    const finished = handle.result();
    finished.catch(() => undefined); // read again below through campaignResult
    for (;;) {
      const status = await campaignStatus(client, handle.workflowId).catch(() => undefined);
      if (status) {
        if (interactive) process.stdout.write(`\x1b[2J\x1b[H${renderBoard(status, await runningSteps(client, status))}\n`);
        else for (const line of describeChanges(previous, status)) say(line);
        if (status.phase === 'halted' && status.halts.every((h) => h.kind === 'node-failed') && status.counts.running === 0 && resumedHalts < 3) {
          // The demo plays the on-call operator: the failed node was rolled back cleanly, so accept it and go on.
          say(`patchwave demo (aws): the campaign halted (${status.halts.map((h) => h.message).join('; ')})`);
          say('patchwave demo (aws): as the operator, resuming: the node is back in service on its old root volume and can be retried later');
          await operate(client, handle.workflowId, 'resume', { by: 'demo-operator', reason: 'node rolled back cleanly; accept and continue' });
          resumedHalts++;
        }
        previous = status;
        if (['completed', 'aborted', 'failed'].includes(status.phase)) break;
      }
      // Poll every half second, or stop as soon as the campaign has returned.
      const done = await Promise.race([finished.then(() => true, () => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
      if (done) break;
    }
    const result = await campaignResult(client, handle.workflowId);

    // ---- What AWS (moto) says now ----
    const ends: SandboxEndState[] = [];
    for (const fleet of fleets) ends.push(await readSandboxEndState(box, fleet, result.campaignId));
    const [webEnd] = ends;
    const all = <T>(pick: (e: SandboxEndState) => T[]) => ends.flatMap(pick);
    const history = standbyHistory(box.layer.calls);
    const fraction = parsePolicy(awsDemoPolicy).maxUnavailableFraction;
    const capViolations = fleets.filter((f) => (history.maxInStandby[f.autoScalingGroupName] ?? 0) > clusterCap(f.instanceIds.length, fraction)).length;
    const instanceIds = fleets.flatMap((f) => f.instanceIds);
    const packages = Object.assign({}, ...ends.map((e) => e.packages)) as Record<string, Record<string, string>>;
    const version = (id: string) => packages[id]?.['openssh-server'];
    const restored = instanceIds.filter((id) => {
      const from = ends.find((e) => id in e.rootVolumeFrom)?.rootVolumeFrom[id];
      return from !== undefined && all((e) => e.snapshots).some((s) => s.snapshotId === from && s.node === id);
    });

    const problems: string[] = [];
    const standby = all((e) => e.instancesInStandby);
    if (standby.length > 0) problems.push(`left in Standby: ${standby.join(', ')}`);
    const registered = all((e) => e.registeredTargets);
    const unregistered = instanceIds.filter((id) => !registered.includes(id));
    if (unregistered.length > 0) problems.push(`not registered and healthy in their target group: ${unregistered.join(', ')}`);
    const drained = all((e) => e.drainRecordsLeft);
    if (drained.length > 0) problems.push(`drain records left on: ${drained.join(', ')}`);
    const snapshots = all((e) => e.snapshots);
    const touched = result.counts.patched + result.counts.rolledBack + result.counts.quarantined;
    if (snapshots.length !== touched * SNAPSHOTS_PER_NODE) problems.push(`${snapshots.length} snapshots tagged with the campaign, expected ${touched * SNAPSHOTS_PER_NODE}`);
    const untagged = snapshots.filter((s) => s.cve !== alert.cveId || !s.retainUntil);
    if (untagged.length > 0) problems.push(`snapshots without CVE or retention tags: ${untagged.map((s) => s.snapshotId).join(', ')}`);
    // Database tiers are patched without a reboot (policy noRebootRoles); restarts stay ours to orchestrate.
    const rebootOf = new Map(
      box.layer
        .callsOf('SendCommand')
        .filter((c) => c.status === 200 && c.params.DocumentName === 'AWS-RunPatchBaseline')
        .map((c) => [String(c.params.InstanceIds?.[0]), String(c.params.Parameters?.RebootOption?.[0])]),
    );
    const rebooting = db.instanceIds.filter((id) => rebootOf.has(id) && rebootOf.get(id) !== 'NoReboot');
    if (rebooting.length > 0) problems.push(`database instances patched with a reboot allowed: ${rebooting.join(', ')}`);
    if (capViolations > 0) problems.push(`a group had more instances in Standby at once than the cap allows (${JSON.stringify(history.maxInStandby)})`);
    const atFixed = instanceIds.filter((id) => version(id) === DEMO_FIXED_PACKAGES['openssh-server']);
    const atOld = instanceIds.filter((id) => version(id) === DEMO_PACKAGES['openssh-server']);
    if (atFixed.length !== result.counts.patched) problems.push(`${atFixed.length} instances run the fixed openssh-server, but the campaign reports ${result.counts.patched} patched`);
    if (failing && result.counts.rolledBack > 0) {
      if (version(failing) !== DEMO_PACKAGES['openssh-server']) problems.push(`${failing} was rolled back but runs openssh-server ${version(failing)}`);
      if (!restored.includes(failing)) problems.push(`${failing} was rolled back but its root volume is not the one from its snapshot`);
      if (webEnd.launchTemplateVersion !== '1') problems.push(`${web.autoScalingGroupName} launches launch template version ${webEnd.launchTemplateVersion}, not the version 1 it had before the failed patch`);
    }

    const summary: AwsDemoSummary = {
      provider: 'aws',
      campaignId: result.campaignId,
      status: result.status,
      nodes: result.counts.total,
      clusters: previous?.tiers.reduce((n, t) => n + t.clusters.length, 0) ?? 0,
      tiers: previous?.tiers.length ?? 0,
      patched: result.counts.patched,
      pendingReboot: result.counts.pendingReboot ?? 0,
      restartPending: result.counts.restartPending ?? 0,
      rolledBack: result.counts.rolledBack,
      quarantined: result.counts.quarantined,
      maxOutOfServiceAtOnce: Math.max(0, ...Object.values(history.maxInStandby)),
      capViolations,
      instancesInStandby: standby.length,
      registeredTargets: registered.length,
      snapshots: snapshots.length,
      rootVolumesRestored: restored.length,
      launchTemplateVersion: webEnd.launchTemplateVersion ?? null,
      nodesAtFixedVersion: atFixed.length,
      nodesAtOldVersion: atOld.length,
      problems,
      durationSeconds: Math.round((Date.now() - started) / 100) / 10,
      temporalUi: uiLink,
    };
    say('');
    say(`patchwave demo (aws): campaign ${summary.status} in ${summary.durationSeconds}s — ${summary.nodes} instances in ${summary.clusters} Auto Scaling groups over ${summary.tiers} tiers`);
    say(`  patched ${summary.patched}, rolled back ${summary.rolledBack}, quarantined ${summary.quarantined}`);
    say(`  moto, after the campaign: ${summary.instancesInStandby} instances in Standby, ${summary.registeredTargets}/${instanceIds.length} registered and healthy in their target groups, ${summary.snapshots} snapshots tagged with the campaign, CVE and a retention date`);
    if (failing) say(`  rollback of ${failing}: launch template version ${summary.launchTemplateVersion} pinned back, root volume from its snapshot (${summary.rootVolumesRestored} restored), openssh-server ${version(failing)}`);
    say(`  Auto Scaling saw at most ${summary.maxOutOfServiceAtOnce} instance(s) of a group in Standby at once (${summary.capViolations} cap violations)`);
    say(summary.problems.length === 0 ? '  end state: as it should be' : `  end state PROBLEMS: ${summary.problems.join('; ')}`);
    if (uiLink) say(`  Temporal UI: ${uiLink} (open while the demo runs; \`patchwave dev\` keeps it up)`);
    return summary;
  } finally {
    for (const stop of stops) {
      try {
        await stop();
      } catch {
        // best effort: keep stopping the rest
      }
    }
  }
}
