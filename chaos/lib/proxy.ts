/**
 * A fault-injecting HTTP proxy in front of the fleet simulator: the workers talk to it, and while a
 * fault window is open it answers a share of the calls with a 5xx — half of them before forwarding
 * (the call never reached the fleet), half after (it ran, and the answer was lost), which is what a
 * flaky load balancer in front of a real provider API does.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Rng } from './random';

export interface FaultProxy {
  url: string;
  /** Opens the window: each call fails with this probability until `clear()`. */
  inject(probability: number): void;
  clear(): void;
  stats(): { forwarded: number; failedBefore: number; failedAfter: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string, random: Rng): Promise<FaultProxy> {
  const upstream = new URL(target);
  let probability = 0;
  const stats = { forwarded: 0, failedBefore: 0, failedAfter: 0 };
  const fail = (res: http.ServerResponse, when: string) => {
    const status = random.next() < 0.5 ? 503 : 500;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { kind: 'unavailable', message: `injected by the chaos proxy (${status}, ${when})` } }));
  };
  const server = http.createServer((req, res) => {
    const roll = probability > 0 ? random.next() : 1;
    const failBefore = roll < probability / 2;
    const failAfter = !failBefore && roll < probability;
    if (failBefore) {
      stats.failedBefore++;
      req.resume();
      fail(res, 'before forwarding');
      return;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        if (failAfter) {
          stats.failedAfter++;
          up.resume();
          up.on('end', () => fail(res, 'after the fleet ran it'));
          return;
        }
        stats.forwarded++;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => {
      // The simulator is down: the caller sees the connection fail, as it would without a proxy.
      res.destroy();
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (p) => (probability = p),
    clear: () => (probability = 0),
    stats: () => ({ ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
