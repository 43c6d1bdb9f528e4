/**
 * The fleet simulator's HTTP API. Validates requests, routes them to the SimFleet, and maps failures
 * to `{ error: { kind, message } }` with the HTTP status of their ProviderErrorKind.
 *
 * A call runs to completion server-side even when its client disconnects, so the call of a worker
 * killed mid-request still lands exactly once; the retry with the same idempotency key gets its result.
 */
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { z } from 'zod';
import { readPackageSource, type BundleSource, type PackageSource } from '../../domain/package-source';
import { ProviderError, type ProviderErrorKind } from '../port';
import { describeIssues, type FleetSpecInput } from './fleet-spec';
import { SimFleet } from './fleet';

export interface SimServerOptions {
  stateDir: string;
  /** Loaded when stateDir holds no state yet, or with `reset`. */
  fleet?: FleetSpecInput;
  /** Replace the state in stateDir with `fleet`. */
  reset?: boolean;
  host?: string;
  /** 0 = a free port. */
  port?: number;
}

export interface SimServer {
  url: string;
  /** The state directory held state and it was resumed (any `fleet` given was not loaded). */
  resumed: boolean;
  readonly fleetName: string;
  readonly nodeCount: number;
  /** Stops accepting calls, waits for running ones, persists the state. */
  close(): Promise<void>;
}

export const HTTP_STATUS: Record<ProviderErrorKind, number> = {
  'bad-input': 400,
  'access-denied': 403,
  'not-found': 404,
  conflict: 409,
  throttled: 429,
  unavailable: 503,
  timeout: 504,
  // The body names the kind; a bare 504 (a proxy) reads as the retryable `timeout`.
  deadline: 504,
};

const keyed = {
  idempotencyKey: z.string().min(1, 'every mutating call needs an idempotency key (see stepKey in src/domain/ids.ts)'),
  campaignId: z.string().optional(),
  cveId: z.string().optional(),
};
const keyedBody = z.object(keyed);
const snapshotBody = z.object({ ...keyed, retentionDays: z.number().int().min(1) });
const drainBody = z.object({ ...keyed, timeoutMs: z.number().min(0) });
const patchBody = z.object({
  ...keyed,
  packages: z.array(z.object({ name: z.string().min(1), fixedVersion: z.string().min(1) })).min(1, 'name at least one package'),
  remediation: z.enum(['targeted', 'baseline']).default('targeted'),
  rebootOption: z.enum(['RebootIfNeeded', 'NoReboot']),
  /** The policy's package source (checked with readPackageSource); absent: the fleet's repository. */
  packageSource: z.unknown().optional(),
});
const bundleBody = z.object({ bundle: z.unknown() });

/** A package source from a request, checked as the policy checks it. */
function packageSourceOf(value: unknown, what: string): PackageSource {
  const read = readPackageSource(value);
  if (!read.ok) throw new ProviderError('bad-input', `${what}: ${read.expected}`);
  return read.value;
}
const reapplyBody = z.object({
  ...keyed,
  baseline: z.object({
    nodeId: z.string().min(1),
    packages: z.record(z.string(), z.string()),
    kernel: z.string(),
    configChecksums: z.record(z.string(), z.string()),
    capturedAt: z.string(),
  }),
});
const restoreBody = z.object({
  ...keyed,
  snapshot: z.object({ snapshotIds: z.array(z.string()), configRef: z.string(), createdAt: z.string() }),
});
const checkBody = z.object({ ...keyed, command: z.string().min(1) });
const restartBody = z.object({ ...keyed, services: z.array(z.string().min(1)).min(1, 'name at least one service') });
const quarantineBody = z.object({ ...keyed, reason: z.string().min(1, 'say why the node is quarantined: an operator will read it') });
const resetBody = z.object({ fleet: z.unknown() });
const faultsBody = z.union([z.array(z.unknown()), z.record(z.string(), z.unknown()).transform((fault) => [fault])]);

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new ProviderError('bad-input', describeIssues(result.error, what, value).join('; '));
  return result.data;
}

/** A long poll of a patch command is answered within this long, well inside an activity's heartbeat timeout. */
export const MAX_PATCH_STATUS_WAIT_MS = 5_000;

const flag = (value: string | undefined) => value === '1' || value === 'true';

type NodeParams = { Params: { id: string } };

/** Starts the simulator. With a stateDir that holds state it resumes it; see SimServerOptions. */
export async function startSimServer(options: SimServerOptions): Promise<SimServer> {
  const sim = SimFleet.open(options);
  // A 10,000-node fleet in a reset request is a few MB.
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
  /** Every handler still running, including those whose client has gone: close waits for them. */
  const running = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    void work.then(
      () => running.delete(work),
      () => running.delete(work),
    );
    return work;
  };

  app.setErrorHandler((err, _request, reply) => {
    if (err instanceof ProviderError) {
      return reply.status(HTTP_STATUS[err.kind]).send({ error: { kind: err.kind, message: err.message } });
    }
    const statusCode = (err as { statusCode?: number }).statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      // Fastify's own request errors: malformed JSON, body too large, wrong content type.
      return reply.status(statusCode).send({ error: { kind: 'bad-input', message: (err as Error).message } });
    }
    process.stderr.write(`sim: internal error: ${(err as Error).stack ?? String(err)}\n`);
    return reply.status(500).send({ error: { kind: 'unavailable', message: `internal simulator error: ${(err as Error).message}` } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: { kind: 'not-found', message: `no route ${request.method} ${request.url}; see src/providers/sim/server.ts` } }),
  );

  app.get('/healthz', async () => ({ ok: true, fleet: sim.fleetName, nodes: sim.nodeCount }));

  app.get<{ Querystring: { scope?: string } }>('/inventory', async (request) => sim.inventory(request.query.scope ?? 'all'));

  app.get<NodeParams>('/nodes/:id/health', (request) => track(sim.checkHealth(request.params.id)));
  app.get<NodeParams>('/nodes/:id/manifest', (request) => track(sim.manifest(request.params.id)));

  app.post<NodeParams>('/nodes/:id/snapshot', (request) => {
    const body = parse(snapshotBody, request.body, 'body');
    return track(
      sim.snapshot(request.params.id, body.idempotencyKey, {
        cveId: body.cveId ?? '',
        campaignId: body.campaignId ?? '',
        retentionDays: body.retentionDays,
      }),
    );
  });
  app.post<NodeParams>('/nodes/:id/drain', (request) => {
    const body = parse(drainBody, request.body, 'body');
    return track(sim.drain(request.params.id, body.idempotencyKey, body.timeoutMs));
  });
  app.post<NodeParams>('/nodes/:id/patch', (request) => {
    const body = parse(patchBody, request.body, 'body');
    return track(
      sim.startPatch(
        request.params.id,
        body.idempotencyKey,
        body.packages,
        body.rebootOption,
        body.remediation,
        body.packageSource === undefined ? undefined : packageSourceOf(body.packageSource, 'body.packageSource'),
      ),
    );
  });
  app.get<{ Params: { id: string; commandId: string }; Querystring: { waitMs?: string } }>('/nodes/:id/patch/:commandId', async (request) => {
    const waitMs = request.query.waitMs === undefined ? 0 : Number(request.query.waitMs);
    if (!Number.isInteger(waitMs) || waitMs < 0 || waitMs > MAX_PATCH_STATUS_WAIT_MS) {
      throw new ProviderError('bad-input', `waitMs: expected an integer from 0 to ${MAX_PATCH_STATUS_WAIT_MS}, got "${request.query.waitMs}"`);
    }
    return sim.patchStatus(request.params.id, request.params.commandId, waitMs);
  });
  app.post<{ Params: { id: string; commandId: string } }>('/nodes/:id/patch/:commandId/cancel', async (request) => {
    sim.cancelPatch(request.params.id, request.params.commandId);
    return {};
  });
  app.post<NodeParams>('/nodes/:id/bundle-checksums', async (request) => {
    const body = parse(bundleBody, request.body, 'body');
    const bundle = packageSourceOf(body.bundle, 'body.bundle');
    if (bundle.kind !== 'bundle') throw new ProviderError('bad-input', `body.bundle: kind must be "bundle" (got ${JSON.stringify(bundle.kind)})`);
    return { checksums: await track(sim.bundleChecksums(request.params.id, bundle satisfies BundleSource)) };
  });
  app.post<NodeParams>('/nodes/:id/check', (request) => {
    const body = parse(checkBody, request.body, 'body');
    return track(sim.runCheck(request.params.id, body.command));
  });
  app.post<NodeParams>('/nodes/:id/restart-services', (request) => {
    const body = parse(restartBody, request.body, 'body');
    return track(sim.restartServices(request.params.id, body.idempotencyKey, body.services));
  });
  app.post<NodeParams>('/nodes/:id/reapply-config', (request) => {
    const body = parse(reapplyBody, request.body, 'body');
    return track(sim.reapplyConfig(request.params.id, body.idempotencyKey, body.baseline));
  });
  app.post<NodeParams>('/nodes/:id/restore-config', (request) => {
    const body = parse(restoreBody, request.body, 'body');
    return track(sim.restoreConfig(request.params.id, body.idempotencyKey, body.snapshot));
  });
  app.post<NodeParams>('/nodes/:id/restore-data', (request) => {
    const body = parse(restoreBody, request.body, 'body');
    return track(sim.restoreData(request.params.id, body.idempotencyKey, body.snapshot));
  });
  app.post<NodeParams>('/nodes/:id/rejoin', (request) => {
    const body = parse(keyedBody, request.body, 'body');
    return track(sim.rejoin(request.params.id, body.idempotencyKey));
  });
  app.post<NodeParams>('/nodes/:id/quarantine', (request) => {
    const body = parse(quarantineBody, request.body, 'body');
    return track(sim.quarantine(request.params.id, body.idempotencyKey, body.reason));
  });

  app.get<NodeParams>('/clusters/:id/metrics', (request) => track(sim.metrics(request.params.id)));

  app.get<{ Querystring: { operations?: string; node?: string; draws?: string; timeline?: string } }>(
    '/admin/monitor',
    async (request) =>
      sim.monitorReport({
        operations: flag(request.query.operations) || request.query.node !== undefined,
        ...(request.query.node !== undefined && { node: request.query.node }),
        draws: flag(request.query.draws),
        timeline: flag(request.query.timeline),
      }),
  );
  app.get<NodeParams>('/admin/nodes/:id', async (request) => sim.nodeState(request.params.id));
  app.get('/admin/faults', async () => ({ faults: sim.listFaults() }));
  app.post('/admin/faults', async (request) => ({ faults: sim.addFaults(parse(faultsBody, request.body, 'body')) }));
  app.delete('/admin/faults', async () => ({ removed: sim.clearFaults() }));
  app.delete<{ Params: { faultId: string } }>('/admin/faults/:faultId', async (request) => ({
    removed: sim.clearFaults(request.params.faultId),
  }));
  app.post('/admin/reset', async (request) => {
    const spec = sim.reset(parse(resetBody, request.body, 'body').fleet);
    return { fleet: spec.name, nodes: sim.nodeCount };
  });

  const host = options.host ?? '127.0.0.1';
  try {
    await app.listen({ host, port: options.port ?? 0 });
  } catch (err) {
    sim.close();
    throw err;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    resumed: sim.resumed,
    get fleetName() {
      return sim.fleetName;
    },
    get nodeCount() {
      return sim.nodeCount;
    },
    close: async () => {
      await app.close();
      await Promise.allSettled([...running]);
      sim.close();
    },
  };
}
