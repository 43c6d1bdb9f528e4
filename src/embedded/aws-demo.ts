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
import { startCampaign } from '../client/campaigns';
import type { NormalizedAlert } from '../domain/alert';
import { clusterCap, parsePolicy, type PolicyInput } from '../domain/policy';
import { AwsFleetProvider } from '../providers/aws/provider';
import { sandboxClients, standbyHistory, startLocalAwsSandbox, type LocalAwsSandbox } from '../providers/aws/local/sandbox';
import { moveLaunchTemplateDuringPatch, readSandboxEndState, type SandboxEndState } from '../providers/aws/local/scenario';
import { DEMO_FIXED_PACKAGES, DEMO_PACKAGES, seedFleet, type SeededFleet } from '../providers/aws/seed';
import { campaignUiLink, DemoStack, summarizeCampaign, type DemoCampaignSummary, type DemoOptions } from './demo-run';
import { demoAlert, demoPolicy } from './demo-scenario';

export interface AwsDemoSummary extends DemoCampaignSummary {
  provider: 'aws';
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

export async function runAwsDemo(options: DemoOptions): Promise<AwsDemoSummary> {
  const stack = new DemoStack(options, 'patchwave demo (aws)');
  const { say } = stack;
  const started = Date.now();
  say('patchwave demo (aws): starting the embedded Temporal dev server, a local AWS sandbox (moto) and a worker with the AWS provider');
  say('patchwave demo (aws): nothing here talks to AWS — the SDK endpoint is a loopback moto server with dummy credentials');
  try {
    const { server, codec } = await stack.startTemporal();
    const box: LocalAwsSandbox = await startLocalAwsSandbox({ pollsInProgress: 3, log: (m) => say(`patchwave demo (aws): ${m}`) });
    stack.onStop(() => box.stop());
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
    stack.onStop(() => providerClients.destroy());
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

    const { client, namespace } = await stack.startWorker(server, codec, provider);

    const alert = awsDemoAlert();
    const handle = await startCampaign(client, { alert, fleet: { provider: 'aws', scope: 'all' }, policy: awsDemoPolicy, taskQueue: options.taskQueue });
    const uiLink = campaignUiLink(server, namespace, handle.workflowId);
    say(`patchwave demo (aws): campaign ${handle.workflowId} started for ${alert.cveId} (${alert.title})`);
    if (uiLink) say(`patchwave demo (aws): watch it in the Temporal UI: ${uiLink}`);

    const { result, last } = await stack.follow(client, handle.workflowId, 'its old root volume');

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
      ...summarizeCampaign(result, last),
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
    await stack.stop();
  }
}
