import { describe, expect, it } from 'vitest';
import { SimFleetProvider } from '../../../src/providers/sim/client';
import { DEMO_FAIL_NODE, DEMO_STALE_NODE, demoFleet } from '../../../src/providers/sim/demo-fleet';
import { configChecksum, FleetSpecError, inventoryFromFleet, parseFleetSpec, parseFleetText } from '../../../src/providers/sim/fleet-spec';
import { ProviderError } from '../../../src/providers/port';
import { ctx, OPENSSH, rejection, smallFleet, startSim, stopSim } from './harness';

describe('sim client', () => {
  it('maps a simulator that is not running to a retryable unavailable error', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const url = sim.server.url;
    await stopSim(sim);

    const err = await rejection(new SimFleetProvider(url).checkHealth('web-1'));

    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'unavailable', retryable: true });
    expect((err as Error).message).toContain(url);
  });

  it('maps error bodies to ProviderError kinds', async () => {
    const sim = await startSim({ fleet: smallFleet() });

    expect(await rejection(sim.provider.checkHealth('nope'))).toMatchObject({ kind: 'not-found', retryable: false });
    expect(await rejection(sim.provider.listInventory('nope'))).toMatchObject({ kind: 'not-found' });
    expect(await rejection(sim.provider.getPatchStatus('web-1', 'cmd-x'))).toMatchObject({ kind: 'not-found' });
  });

  it('answers a patch status request when the command finishes (a long poll), and refuses a bad wait', async () => {
    const sim = await startSim({ fleet: smallFleet({ latency: { patch: 300 } }) });
    await sim.provider.drainNode('web-1', { ...ctx('web-1#drain'), timeoutMs: 1_000 });
    const { commandId } = await sim.provider.startPatch('web-1', { ...ctx('web-1#patch'), packages: OPENSSH, rebootOption: 'NoReboot' });

    // One request, held until the 300 ms patch is done, well before the client's one-second wait.
    expect(await sim.provider.getPatchStatus('web-1', commandId)).toMatchObject({ state: 'Success' });

    const bad = await fetch(`${sim.server.url}/nodes/web-1/patch/${commandId}?waitMs=60000`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { kind: 'bad-input', message: 'waitMs: expected an integer from 0 to 5000, got "60000"' } });
  });

  it('answers inventory by scope: all, the fleet name, a cluster, a tier, a node', async () => {
    const sim = await startSim({ fleet: smallFleet() });
    const ids = async (scope: string) => (await sim.provider.listInventory(scope)).map((a) => a.id);

    expect(await ids('all')).toHaveLength(6);
    expect(await ids('small')).toHaveLength(6);
    expect(await ids('db')).toEqual(['db-1', 'db-2']);
    expect(await ids('tier-1')).toEqual(['web-1', 'web-2', 'web-3', 'web-4']);
    expect(await ids('db-2,web-1')).toEqual(['web-1', 'db-2']);
  });
});

describe('fleet spec', () => {
  it('reads YAML and fills defaults', () => {
    const spec = parseFleetText(
      [
        'name: yaml-fleet',
        'seed: 3',
        'latency: { patch: { kind: lognormal, medianMs: 100, p99Ms: 300 }, health: 5 }',
        'clusters:',
        '  - { id: c1, role: queue, exposure: internal, dataSensitivity: high,',
        '      nodes: [ { id: q1, packages: { openssh-server: 9.6.1 }, configFiles: { /etc/a: "x=1" } } ] }',
        'faults: [ { kind: patch-fails, node: q1 } ]',
      ].join('\n'),
      'fleet.yaml',
    );

    expect(spec.latency.health).toEqual({ kind: 'fixed', ms: 5 });
    expect(spec.latencyScale).toBe(1);
    expect(spec.clusters[0].nodes[0]).toMatchObject({ kernel: '6.8.0-31', healthy: true });
    expect(spec.faults).toEqual([{ kind: 'patch-fails', node: 'q1', partial: false, id: 'f1' }]);
    expect(inventoryFromFleet(spec)).toEqual([
      { id: 'q1', cluster: 'c1', role: 'queue', exposure: 'internal', dataSensitivity: 'high', packages: { 'openssh-server': '9.6.1' } },
    ]);
  });

  it('names every bad field', () => {
    const bad = { ...smallFleet(), latency: { patch: { kind: 'lognormal', medianMs: 500, p99Ms: 100 } }, faults: [{ kind: 'patch-fails', node: 'ghost' }] };
    let err: unknown;
    try {
      parseFleetSpec(bad, 'bad.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FleetSpecError);
    const issues = (err as FleetSpecError).issues.join('\n');
    expect(issues).toMatch(/fleet\.latency\.patch: expected p99Ms \(100\) must be at least medianMs \(500\), got an object/);
    expect(issues).toMatch(/fleet\.faults\[0\]: expected patch-fails fault targets node "ghost"/);
    expect(() => parseFleetSpec({ ...smallFleet(), clusters: [...smallFleet().clusters, smallFleet().clusters[0]] })).toThrow(/duplicate cluster id "web"/);
  });

  it('takes a config file as content or as its sha256', () => {
    const sha = configChecksum('PermitRootLogin no\n');
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(configChecksum(sha)).toBe(sha);
  });

  it('the demo fleet: about 40 nodes, 8 clusters, 3 tiers, a failing non-canary tier-1 node on request', () => {
    const plain = demoFleet();
    const failing = demoFleet({ failNode: true });

    expect(inventoryFromFleet(plain)).toHaveLength(40);
    expect(new Set(plain.clusters.map((c) => c.tier))).toEqual(new Set([1, 2, 3]));
    // Always one handled verification finding (sshd restarted after the upgrade); a failure only on request.
    expect(plain.faults).toEqual([expect.objectContaining({ kind: 'stale-library', node: DEMO_STALE_NODE })]);
    expect(failing.faults).toEqual([expect.objectContaining({ kind: 'stale-library' }), expect.objectContaining({ kind: 'patch-fails', node: DEMO_FAIL_NODE })]);
    const cluster = failing.clusters.find((c) => c.nodes.some((n) => n.id === DEMO_FAIL_NODE))!;
    expect(cluster.tier).toBe(1);
    expect(cluster.nodes[0].id).not.toBe(DEMO_FAIL_NODE);
  });
});
