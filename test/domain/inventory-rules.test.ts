/**
 * The inventory file's rules field by field (src/domain/inventory-file.ts): ids, versions, load
 * balancers, tiers, couplings, how exposure is derived, and how errors read. inventory-file.test.ts
 * reads whole fixture files; these are the single-field cases.
 */
import { describe, expect, it } from 'vitest';
import { InventoryFileError, parseInventory, parseInventoryText } from '../../src/domain/inventory-file';

const asset = (over: Record<string, unknown> = {}) => ({ id: 'a', cluster: 'c', role: 'web', exposure: 'internal', ...over });

function refusal(run: () => unknown): InventoryFileError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryFileError);
    return err as InventoryFileError;
  }
  throw new Error('expected the inventory to be refused');
}
const issues = (document: unknown) => refusal(() => parseInventory(document)).issues;

const ID_RULE = 'letters, digits and . _ : / @ - (starting with a letter or digit)';

describe('ids', () => {
  it('start with a letter or digit, and hold nothing but the allowed characters, whole', () => {
    expect(issues([asset({ id: '-abc' })])).toEqual([`[0].id: expected id: ${ID_RULE}, got "-abc"`]);
    expect(issues([asset({ id: 'abc def' })])).toEqual([`[0].id: expected id: ${ID_RULE}, got "abc def"`]);
    expect(issues([asset({ cluster: 'bad id' })])).toEqual([`[0].cluster: expected cluster: ${ID_RULE}, got "bad id"`]);
    expect(issues([asset({ dependsOn: ['bad id'] })])).toEqual([`[0].dependsOn[0]: expected dependsOn: ${ID_RULE}, got "bad id"`]);
    expect(issues([asset({ coupledWith: ['bad id'] })])).toEqual([`[0].coupledWith[0]: expected coupledWith: ${ID_RULE}, got "bad id"`]);
    expect(parseInventory([asset({ id: 'i-0abc.1_x:y/z@w' })])[0]!.id).toBe('i-0abc.1_x:y/z@w');
  });
});

describe('fields', () => {
  it('a version must be a string', () => {
    expect(issues([asset({ packages: { openssl: true } })])).toEqual(['[0].packages.openssl: expected a version string, got true']);
  });

  it('a load balancer is a name of 1–200 characters, or a record', () => {
    expect(issues([asset({ loadBalancer: '' })])).toEqual(['[0].loadBalancer: expected a non-empty string, got ""']);
    expect(issues([asset({ loadBalancer: 'x'.repeat(201) })])[0]).toMatch(/^\[0\]\.loadBalancer: expected at most 200 characters, got "x+\.\.\."$/);
    expect(parseInventory([asset({ loadBalancer: 'x'.repeat(200) })])).toHaveLength(1);
  });

  it('keeps a tier label, dependencies and couplings when given, and leaves out empty lists', () => {
    expect(parseInventory([asset({ tier: 2, dependsOn: ['db'], coupledWith: ['b', 'c'], patchGroup: 'pg', osFamily: 'ubuntu', dataSensitivity: 'high' })])).toEqual([
      { id: 'a', cluster: 'c', role: 'web', exposure: 'internal', dataSensitivity: 'high', tier: 2, packages: {}, dependsOn: ['db'], patchGroup: 'pg', coupledWith: ['b', 'c'], osFamily: 'ubuntu' },
    ]);
    expect(parseInventory([asset({ dependsOn: [], coupledWith: [] })])).toEqual([{ id: 'a', cluster: 'c', role: 'web', exposure: 'internal', dataSensitivity: 'none', packages: {} }]);
    for (const tier of [1, 3]) expect(parseInventory([asset({ tier })])[0]!.tier).toBe(tier);
  });

  it('at most 100,000 assets', () => {
    const many = Array.from({ length: 100_001 }, (_, i) => asset({ id: `n${i}` }));
    expect(issues(many)).toEqual(['(payload): expected at most 100000 assets, got an array of 100001 items']);
    expect(issues({ assets: many })).toEqual(['assets: expected at most 100000 assets, got an array of 100001 items']);
  });

  it('only version 1 of the file format', () => {
    expect(issues({ version: 2, assets: [] })).toEqual(['version: expected version 1 (the only inventory format version), got 2']);
    expect(parseInventory({ version: 1, assets: [] })).toEqual([]);
  });
});

describe('exposure', () => {
  it('a load balancer given by name says nothing about exposure: a label is still needed', () => {
    expect(parseInventory([asset({ loadBalancer: 'web' })])[0]).toMatchObject({ exposure: 'internal' });
    expect(issues([asset({ exposure: undefined, loadBalancer: 'web' })])).toEqual([
      '[0] (a).exposure: expected "internet" or "internal" (or a loadBalancer with a scheme, or a publicIp), got missing',
    ]);
  });

  it('an internet-facing load balancer without a type is a "load balancer"', () => {
    expect(parseInventory([asset({ exposure: undefined, loadBalancer: { name: 'web', scheme: 'internet-facing' } })])[0]).toMatchObject({
      exposure: 'internet',
      exposureVia: 'internet-facing load balancer web',
    });
    expect(parseInventory([asset({ exposure: undefined, loadBalancer: { name: 'web', scheme: 'internet-facing', type: 'nlb' } })])[0]!.exposureVia).toBe('internet-facing NLB web');
  });

  it('an exposureVia is kept for internet-facing assets only', () => {
    expect(parseInventory([asset({ exposure: 'internet', exposureVia: 'CloudFront dist-1' })])[0]!.exposureVia).toBe('CloudFront dist-1');
    expect(parseInventory([asset({ exposure: 'internet' })])[0]).not.toHaveProperty('exposureVia');
    expect(parseInventory([asset({ exposure: 'internal', exposureVia: 'CloudFront dist-1' })])[0]).not.toHaveProperty('exposureVia');
  });

  it('a public IP beats an internal label only as an error', () => {
    expect(issues([asset({ publicIp: '203.0.113.7' })])).toEqual(['[0] (a).exposure: expected "internet" (the asset is reachable through public IP 203.0.113.7), got "internal"']);
  });
});

describe('reading the text', () => {
  it('JSON when it looks like JSON, after a byte-order mark and leading blanks: its own error, on one line', () => {
    expect(refusal(() => parseInventoryText('  \n [ { "id": ')).issues).toEqual(['not valid JSON or YAML: Unexpected end of JSON input']);
    expect(refusal(() => parseInventoryText('\uFEFF{ "assets": [ }')).issues[0]).toMatch(/^not valid JSON or YAML: .*JSON/);
    expect(parseInventoryText(`\uFEFF${JSON.stringify([asset()])}`)).toHaveLength(1);
  });

  it('a byte-order mark inside a value is kept', () => {
    expect(parseInventoryText(JSON.stringify([asset({ role: 'we\uFEFFb' })]))[0]!.role).toBe('we\uFEFFb');
  });

  it('a YAML error is its first line only', () => {
    expect(refusal(() => parseInventoryText('assets: [a, b\n')).issues).toEqual(['not valid JSON or YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1:']);
  });

  it('nothing at all is an empty document', () => {
    expect(issues(undefined)).toEqual(['(inventory): expected a list of assets or {assets: [...]}, got an empty document']);
    expect(issues(null)).toEqual(['(inventory): expected a list of assets or {assets: [...]}, got an empty document']);
  });
});

describe('errors', () => {
  it('name the source and the first five issues, then count the rest', () => {
    const six = Array.from({ length: 6 }, (_, i) => asset({ id: `n${i}`, role: undefined }));
    const error = refusal(() => parseInventory(six, 'fleet.yaml'));
    expect(error.name).toBe('InventoryFileError');
    expect(error.source).toBe('fleet.yaml');
    expect(error.issues).toHaveLength(6);
    expect(error.message).toBe(`invalid inventory fleet.yaml: ${error.issues.slice(0, 5).join('; ')} (+1 more)`);
    const five = refusal(() => parseInventory(six.slice(0, 5)));
    expect(five.message).toBe(`invalid inventory (inventory): ${five.issues.join('; ')}`);
    expect(refusal(() => parseInventoryText('[')).message).toMatch(/^invalid inventory \(inventory\): not valid JSON or YAML: /);
  });

  it('a list names assets by index, a file by assets[index]', () => {
    expect(issues([asset(), asset()])).toEqual(['[1] (a).id: expected a unique asset id, got "a" again (first at index 0)']);
    expect(issues({ assets: [asset(), asset()] })).toEqual(['assets[1] (a).id: expected a unique asset id, got "a" again (first at index 0)']);
  });

  it('an unknown cluster lists at most ten known ones', () => {
    const two = { clusters: { web: {}, db: {} }, assets: [asset({ cluster: 'zz' })] };
    expect(issues(two)).toEqual(['assets[0] (a).cluster: expected a cluster defined under clusters (web, db), got "zz"']);
    const eleven = { clusters: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, {}])), assets: [asset({ cluster: 'zz' })] };
    expect(issues(eleven)).toEqual(['assets[0] (a).cluster: expected a cluster defined under clusters (k0, k1, k2, k3, k4, k5, k6, k7, k8, k9), got "zz"']);
  });
});
