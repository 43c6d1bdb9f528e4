/**
 * Registers the namespace and patchwave's search attributes on a fresh cluster (what compose's
 * temporal-setup service does with `temporal operator`), then waits until the frontend serves both:
 * workers must not start before (they would find no namespace), and a campaign sets the attributes
 * at start.
 */
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';
import type { Say } from '../temporal-cli';
import { frontendConnectOptions, type FrontendTarget } from './tls';

/** temporal.api.enums.v1.IndexedValueType (the proto package is not a direct dependency). */
const INDEXED_VALUE_TYPE: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };

/** Polls `check` until it resolves truthy or the deadline passes; the last error explains a timeout. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} within ${Math.round(timeoutMs / 1000)}s${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Waits until the frontend answers (a fresh server needs a few seconds to join its ring). */
export async function waitForFrontend(target: string | FrontendTarget, timeoutMs: number): Promise<void> {
  const options = frontendConnectOptions(target);
  await until(`the Temporal frontend at ${options.address} did not answer`, timeoutMs, async () => {
    const connection = await Connection.connect({ ...options, connectTimeout: 2_000 });
    try {
      await connection.withDeadline(Date.now() + 3_000, () => connection.workflowService.getSystemInfo({}));
      return true;
    } finally {
      await connection.close();
    }
  });
}

export async function registerNamespace(target: string | FrontendTarget, namespace: string, retentionSeconds: number, say: Say): Promise<void> {
  const connection = await Connection.connect({ ...frontendConnectOptions(target), connectTimeout: 5_000 });
  try {
    const svc = connection.workflowService;
    const exists = await svc.describeNamespace({ namespace }).then(
      () => true,
      () => false,
    );
    if (!exists) {
      say(`patchwave: registering namespace ${namespace} (retention ${retentionSeconds / 3600}h)`);
      await svc.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(retentionSeconds * 1_000) }).catch((err: Error) => {
        if (!/already exists|AlreadyExists/i.test(err.message)) throw err;
      });
    }
    // The frontend's namespace registry refreshes on a timer: wait until it serves the new one.
    await until(`namespace ${namespace} was not served`, 60_000, async () => !!(await svc.describeNamespace({ namespace })).namespaceInfo);

    // Right after registration some frontend paths still answer "namespace not found": retry.
    let announced = false;
    await until('search attributes were not registered', 60_000, async () => {
      const listed = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
      const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => listed[name] === undefined);
      if (missing.length === 0) return true;
      if (!announced) say(`patchwave: registering search attributes ${missing.map(([n, t]) => `${n}=${t}`).join(', ')}`);
      announced = true;
      await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]])) });
      return false;
    });
  } finally {
    await connection.close();
  }
}
