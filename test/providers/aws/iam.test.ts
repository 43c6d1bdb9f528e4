/**
 * The IAM policy in docs/aws-iam-policy.json and the code agree action for action: every SDK command
 * the provider sends (`new XxxCommand(` in src/providers/aws, mapped to `service:Xxx` through the
 * client package it is imported from) is allowed, and the policy allows nothing else — except
 * statements whose Sid starts with `ImpliedBy<Action>`, which AWS checks on the caller's behalf when
 * that action (sent by the code) runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const SERVICE_OF_PACKAGE: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-s3': 's3',
};
/** Demo-only: creates VPCs, load balancers and groups in moto; never run with the worker's role. */
const NOT_IN_PRODUCTION = new Set(['seed.ts']);

function actionsSentByCode(): Map<string, string[]> {
  const dir = join(root, 'src', 'providers', 'aws');
  const actions = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !NOT_IN_PRODUCTION.has(f))) {
    const source = readFileSync(join(dir, file), 'utf8');
    const serviceOf = new Map<string, string>();
    for (const [, names, pkg] of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      for (const name of names.split(',').map((n) => n.trim().replace(/^type\s+/, ''))) if (name) serviceOf.set(name, SERVICE_OF_PACKAGE[pkg]);
    }
    for (const [, command] of source.matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
      const service = serviceOf.get(command);
      if (!service) throw new Error(`${file}: ${command} is not imported from a known AWS client package`);
      const action = `${service}:${command.replace(/Command$/, '')}`;
      actions.set(action, [...(actions.get(action) ?? []), file]);
    }
  }
  return actions;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
}

function policy(): Statement[] {
  return (JSON.parse(readFileSync(join(root, 'docs', 'aws-iam-policy.json'), 'utf8')) as { Statement: Statement[] }).Statement;
}
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('docs/aws-iam-policy.json ↔ src/providers/aws', () => {
  const sent = actionsSentByCode();
  const statements = policy();
  const granted = new Set(statements.filter((s) => !s.Sid?.startsWith('ImpliedBy')).flatMap(actionsOf));

  it('finds the provider\'s calls (the scan itself works)', () => {
    expect(sent.size).toBeGreaterThan(25);
    expect(sent.get('ssm:SendCommand')).toContain('commands.ts');
    expect(sent.get('ec2:CreateSnapshots')).toContain('snapshot.ts');
  });

  it('grants every action the code sends', () => {
    const missing = [...sent.keys()].filter((a) => !granted.has(a)).map((a) => `${a} (sent from ${sent.get(a)!.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('grants nothing the code does not send', () => {
    expect([...granted].filter((a) => !sent.has(a)).sort()).toEqual([]);
  });

  it('implied grants name an action the code sends', () => {
    for (const s of statements.filter((x) => x.Sid?.startsWith('ImpliedBy'))) {
      const by = /^ImpliedBy([A-Za-z]+?)(PassRole)?$/.exec(s.Sid!)?.[1];
      expect([...sent.keys()].some((a) => a.endsWith(`:${by}`)), `${s.Sid} names no action the code sends`).toBe(true);
    }
  });

  it('only allows, never wildcards an action', () => {
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const a of actionsOf(s)) expect(a).not.toContain('*');
    }
  });

  it('docs/aws.md lists the same actions', () => {
    const doc = readFileSync(join(root, 'docs', 'aws.md'), 'utf8');
    const missing = [...sent.keys()].filter((a) => !doc.includes(a));
    expect(missing).toEqual([]);
  });
});
