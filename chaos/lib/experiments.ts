/**
 * The matrix. Each experiment injects its faults while the campaign runs and leaves every process up
 * when it returns; lib/run.ts judges the outcome. Every random moment comes from the seed.
 */
import { sleep } from './random';
import type { Experiment, ExperimentContext } from './run';
import { settleAfterStorm, stormRound } from './storm';
import { takeover } from './takeover';

/** Waits a random moment (seconds) unless the campaign closes first; false when it closed. */
async function randomMoment(ctx: ExperimentContext, minS: number, maxS: number): Promise<boolean> {
  const until = Date.now() + ctx.random.between(minS, maxS) * 1000;
  while (Date.now() < until) {
    if (!ctx.running()) return false;
    await sleep(Math.min(250, until - Date.now()));
  }
  return ctx.running();
}

/** SIGKILL workers one at a time (round-robin over `workers`), each replaced at once. */
function workerKills(name: string, workers: number, kills: number): Experiment {
  return {
    name,
    workers,
    description: `${workers} worker(s), ${kills} SIGKILLs ${workers > 1 ? 'alternating between them ' : ''}at random moments (2–10 s apart), each replaced at once`,
    async inject(ctx) {
      for (let i = 0; i < kills; i++) {
        if (!(await randomMoment(ctx, 2, 10))) break;
        const victim = ctx.env.workers[i % ctx.env.workers.length];
        const killed = await ctx.env.killWorker(victim);
        ctx.fault(`SIGKILL worker pid ${victim.pid} (${i + 1}/${kills})`);
        await ctx.env.startWorker();
        await ctx.env.checkSilent(killed);
      }
    },
  };
}

function serverKills(name: string, kills: number, withWorker: boolean): Experiment {
  return {
    name,
    description: `${kills}× SIGKILL of the dev server${withWorker ? ' and the worker together' : ''}, restarted on its SQLite file after 1–5 s`,
    async inject(ctx) {
      for (let i = 0; i < kills; i++) {
        if (!(await randomMoment(ctx, 10, 25))) break;
        ctx.setFaultActive(true);
        const pid = ctx.env.serverPid;
        const victim = withWorker ? ctx.env.workers[0] : undefined;
        const [, killed] = await Promise.all([ctx.env.killServer(), victim ? ctx.env.killWorker(victim) : undefined]);
        ctx.fault(`SIGKILL dev server pid ${pid}${victim ? ` and worker pid ${victim.pid}` : ''} (${i + 1}/${kills})`);
        await sleep(ctx.random.between(1, 5) * 1000);
        await ctx.env.startServer();
        if (victim) {
          await ctx.env.startWorker();
          if (killed) await ctx.env.checkSilent(killed);
        }
        ctx.setFaultActive(false);
      }
    },
  };
}

function simOutage(seconds: number): Experiment {
  return {
    name: `sim-down-${seconds}s`,
    description: `the fleet simulator SIGKILLed for ${seconds} s while nodes are in flight, restarted on its state`,
    async inject(ctx) {
      if (!(await randomMoment(ctx, 15, 25))) return;
      ctx.setFaultActive(true);
      const pid = ctx.env.simPid;
      await ctx.env.killSim();
      ctx.fault(`SIGKILL simulator pid ${pid}; down ${seconds} s`);
      await sleep(seconds * 1000);
      await ctx.env.startSim();
      ctx.fault('simulator restarted on its state');
      ctx.setFaultActive(false);
    },
  };
}

const apiFaults: Experiment = {
  name: 'api-faults',
  proxy: true,
  description: 'for 60 s the fleet API throttles half of the calls (429) and a proxy fails 30% with 500/503, half before and half after the fleet ran them',
  async inject(ctx) {
    if (!(await randomMoment(ctx, 10, 20))) return;
    await ctx.env.admin.addFaults({ id: 'chaos-throttle', kind: 'throttle', probability: 0.5 });
    ctx.env.proxy!.inject(0.3);
    ctx.fault('throttle 50% + 5xx 30% for 60 s');
    await sleep(60_000);
    ctx.env.proxy!.clear();
    await ctx.env.admin.clearFaults('chaos-throttle');
    ctx.fault(`faults cleared; proxy stats ${JSON.stringify(ctx.env.proxy!.stats())}`);
  },
};

const operatorStorm: Experiment = {
  name: 'operator-storm',
  description: 'six rounds of concurrent updates and signals: pause/resume, unknown nodes, malformed and null inputs, forged nodeFinished for running nodes, forged leaseGranted',
  async inject(ctx) {
    for (let round = 1; round <= 6; round++) {
      if (!(await randomMoment(ctx, 4, 9))) break;
      const r = await stormRound(ctx, round);
      ctx.fault(`storm round ${round}: ${r.sent} messages (${r.refused} refused), forged nodeFinished for ${r.forgedFinishes.length} running node(s)`);
    }
    await settleAfterStorm(ctx);
  },
};

/** No fault at all: the harness and its judge on a healthy run. */
const baseline: Experiment = {
  name: 'baseline',
  description: 'no fault: the same campaign and judge, status polled every 2 s',
  async inject() {
    // nothing
  },
};

export const EXPERIMENTS: Experiment[] = [
  baseline,
  workerKills('worker-kills', 1, 20),
  workerKills('two-workers', 2, 12),
  workerKills('three-workers', 3, 12),
  serverKills('server-kills', 3, false),
  serverKills('worker-and-server', 3, true),
  simOutage(5),
  simOutage(15),
  simOutage(60),
  apiFaults,
  operatorStorm,
  takeover,
];

/** The CI subset (test/chaos/chaos.test.ts): worker kills with status polling, the storm, a short outage. */
export const CI_EXPERIMENTS: Experiment[] = [workerKills('worker-kills-ci', 1, 6), operatorStorm, simOutage(5)];

export function findExperiment(name: string): Experiment | undefined {
  return [...EXPERIMENTS, ...CI_EXPERIMENTS].find((e) => e.name === name);
}
