import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InventoryFileError, parseInventory, parseInventoryText } from '../../src/domain/inventory-file';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/inventory/${name}`, import.meta.url), 'utf8');

function issuesOf(text: string): string[] {
  try {
    parseInventoryText(text, 'inv.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryFileError);
    return (err as InventoryFileError).issues;
  }
  throw new Error('expected the inventory to be refused');
}

describe('inventory file', () => {
  it('a refused inventory is bad input (the API answers 400), its message naming the file', () => {
    let caught: unknown;
    try {
      parseInventoryText('- id: a\n', 'inv.yaml');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InventoryFileError);
    expect(caught).toMatchObject({ code: 'bad-input', message: expect.stringMatching(/^invalid inventory inv\.yaml: /) });
  });

  it('reads the demo fleet: cluster defaults applied, asset fields override, exposure derived with its reason', () => {
    const assets = parseInventoryText(fixture('demo-fleet.yaml'), 'demo-fleet.yaml');
    expect(assets).toHaveLength(29);
    const web = assets.find((a) => a.id === 'i-0eb00000000000001')!;
    expect(web).toEqual({
      id: 'i-0eb00000000000001',
      cluster: 'web-prod',
      role: 'public-web',
      exposure: 'internet',
      exposureVia: 'internet-facing ALB web-prod',
      dataSensitivity: 'low',
      packages: { 'openssh-server': '1:8.9p1-3ubuntu0.6', snapd: '2.61.3+22.04' },
      dependsOn: ['api-prod', 'auth-prod'],
      osFamily: 'ubuntu',
    });
    // The asset's own package version wins over the cluster default; other packages are kept.
    expect(assets.find((a) => a.id === 'i-0eb00000000000006')!.packages).toEqual({ 'openssh-server': '1:8.9p1-3ubuntu0.10', snapd: '2.61.3+22.04' });
    expect(assets.find((a) => a.id === 'i-0f0e0000000000001')).toMatchObject({ exposure: 'internal', patchGroup: 'amqp' });
  });

  it('reads a JSON list of assets in the InventoryAsset shape (what a provider returns)', () => {
    const assets = parseInventoryText(fixture('simple.json'));
    expect(assets.map((a) => [a.id, a.exposure, a.exposureVia])).toEqual([
      ['web-1', 'internet', 'internet-facing ALB web'],
      ['web-2', 'internet', 'internet-facing ALB web'],
      ['db-1', 'internal', undefined],
    ]);
  });

  it('derives internet exposure from a public IP, and internal from an internal load balancer', () => {
    const assets = parseInventory({
      assets: [
        { id: 'a', cluster: 'c', role: 'bastion', publicIp: '203.0.113.7' },
        { id: 'b', cluster: 'd', role: 'api', loadBalancer: { name: 'internal-api', scheme: 'internal' } },
      ],
    });
    expect(assets.map((a) => [a.exposure, a.exposureVia])).toEqual([
      ['internet', 'public IP 203.0.113.7'],
      ['internal', undefined],
    ]);
  });

  it('refuses a version YAML would read as a number', () => {
    expect(issuesOf(fixture('bad/numeric-version.yaml'))).toEqual([
      'assets[0].packages.openssl: expected a version string (quote it in YAML: "3.0" would be read as the number 3), got 3',
    ]);
  });

  it('refuses an exposure label the facts contradict', () => {
    expect(issuesOf(fixture('bad/contradictory-exposure.yaml'))).toEqual([
      'assets[0] (i-1).exposure: expected "internet" (the asset is reachable through internet-facing ALB web), got "internal"',
    ]);
  });

  it('names duplicate ids, unknown clusters and bad tiers with their index', () => {
    expect(issuesOf(fixture('bad/duplicate-and-unknown-cluster.yaml'))).toEqual(['assets[3].tier: expected a tier 1, 2 or 3, got 4']);
    const fixed = fixture('bad/duplicate-and-unknown-cluster.yaml').replace(', tier: 4', '');
    expect(issuesOf(fixed)).toEqual([
      'assets[1] (i-1).id: expected a unique asset id, got "i-1" again (first at index 0)',
      'assets[2] (i-2).cluster: expected a cluster defined under clusters (web), got "wbe"',
    ]);
  });

  it('requires what the planner cannot guess', () => {
    expect(issuesOf('assets:\n  - { id: a, cluster: c, role: web }\n')).toEqual([
      'assets[0] (a).exposure: expected "internet" or "internal" (or a loadBalancer with a scheme, or a publicIp), got missing',
    ]);
    expect(issuesOf('assets:\n  - { id: a, cluster: c, exposure: internal }\n')[0]).toMatch(/^assets\[0\] \(a\)\.role: expected a role/);
    expect(issuesOf('[{ "id": "a" }]')).toEqual(['[0].cluster: expected a string (required), got missing']);
    expect(issuesOf('assets:\n  - { id: a, cluster: c, role: web, exposure: public }\n')).toEqual(['assets[0].exposure: expected one of "internet", "internal", got "public"']);
    expect(issuesOf('assets: [ { id: a, cluster: c, role: web, exposure: internal, colour: blue } ]')).toEqual([
      'assets[0].colour: expected a known field (unknown fields are rejected here: check the spelling), got "blue"',
    ]);
  });

  it('refuses text that is neither JSON nor YAML, and empty documents', () => {
    expect(issuesOf('{ "assets": [ }')[0]).toMatch(/^not valid JSON or YAML: /);
    expect(issuesOf('assets: [a, b\n')[0]).toMatch(/^not valid JSON or YAML: /);
    expect(issuesOf('')[0]).toMatch(/empty document/);
  });
});
