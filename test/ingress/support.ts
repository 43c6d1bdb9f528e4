/** Shared by the ingress tests: alerts for the test fleet, a log capture, and "did anything start?" checks. */
import { Writable } from 'node:stream';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import pino from 'pino';
import { campaignWorkflowId } from '../../src/domain/ids';
import { REDACTED_PATHS } from '../../src/ingress/server';
import { eventually } from '../support/temporal';

/** A generic alert (docs/alerts.md) for the test fleet's vulnerable openssh-server. */
export function genericAlert(cveId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cveId,
    title: `test alert for ${cveId}`,
    cvss: { score: 8.1, vector: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    packages: [{ name: 'openssh-server', fixedVersion: '9.8.1' }],
    ...extra,
  };
}

/** A pino logger whose lines are kept in memory, with the ingress's redaction, for "no secret in the logs" checks. */
export function capturedLogger(): { logger: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  return { logger: pino({ level: 'debug', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, sink), lines };
}

/** Executions of the campaign workflow for this CVE, from visibility (what the Temporal UI shows). */
export async function campaignsForCve(client: Client, cveId: string): Promise<{ workflowId: string; runId: string }[]> {
  const out: { workflowId: string; runId: string }[] = [];
  for await (const info of client.workflow.list({ query: `PatchwaveCveId = '${cveId}'` })) out.push({ workflowId: info.workflowId, runId: info.runId });
  return out;
}

/**
 * Nothing was started for this CVE: the campaign's business key does not exist (immediate, strongly
 * consistent) and visibility lists nothing for the CVE.
 */
export async function expectNoCampaign(client: Client, cveId: string, scope = 'all'): Promise<void> {
  const err = await client.workflow
    .getHandle(campaignWorkflowId(cveId, scope))
    .describe()
    .then(() => undefined, (e: unknown) => e);
  if (!(err instanceof WorkflowNotFoundError)) throw new Error(`expected no campaign for ${cveId}, but describe gave ${err === undefined ? 'a running workflow' : String(err)}`);
  const listed = await campaignsForCve(client, cveId);
  if (listed.length > 0) throw new Error(`expected no campaign for ${cveId} in visibility, found ${listed.map((l) => l.workflowId).join(', ')}`);
}

/** Visibility is eventually consistent: wait until it lists exactly `count` executions for the CVE. */
export async function waitForCampaignCount(client: Client, cveId: string, count: number): Promise<{ workflowId: string; runId: string }[]> {
  return eventually(`${count} execution(s) listed for ${cveId}`, async () => {
    const listed = await campaignsForCve(client, cveId);
    return listed.length === count ? listed : undefined;
  });
}
