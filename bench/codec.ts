/**
 * The payload codec's own cost, per payload: AES-256-GCM encode + decode of JSON payloads of the
 * sizes a campaign writes (a node saga's small inputs, a node result of a few KiB, the 100-node
 * campaign's largest ~7 KiB payload, the 10,000-node campaign's largest ~282 KiB one). CPU time of
 * this process only, so it is steady on a shared machine where a whole campaign's figure is not.
 *
 *   node_modules/.bin/tsx bench/codec.ts [--iterations N] [--payloads-per-node N]
 *
 * `--payloads-per-node` (default 26: 182 encrypted payloads over 7 nodes in the raw-history test,
 * campaign and leases included) turns the per-payload figure into an estimate per node.
 */
import { parseArgs } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../src/temporal/codec';
import { generateKeyEntry, parseKeyring } from '../src/temporal/keys';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' }, 'payloads-per-node': { type: 'string', default: '26' } } });
const iterations = Number(values.iterations);
const perNode = Number(values['payloads-per-node']);
const codec = new EncryptionCodec(parseKeyring(generateKeyEntry('bench'), 'bench'));

function payloadOf(bytes: number) {
  const step = { step: 'patch', startedAt: '2026-12-01T12:00:00.000Z', finishedAt: '2026-12-01T12:00:01.000Z', detail: 'openssh-server 9.6.1 → 9.8.1' };
  const value = { nodeId: 'i-0a1b2c3d4e5f6a701', timeline: [] as unknown[] };
  while (JSON.stringify(value).length < bytes) value.timeline.push(step);
  return defaultPayloadConverter.toPayload(value);
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

console.log('size       encode µs  decode µs  round trip µs/payload');
let smallRoundTrip = 0;
let mediumRoundTrip = 0;
for (const size of [256, 2_048, 7_168, 288_768]) {
  const payload = payloadOf(size);
  const n = size > 100_000 ? Math.max(50, Math.round(iterations / 20)) : iterations;
  for (let i = 0; i < 50; i++) await codec.decode(await codec.encode([payload])); // warm-up
  let t = cpuMicros();
  const encoded = [];
  for (let i = 0; i < n; i++) encoded.push((await codec.encode([payload]))[0]);
  const encodeUs = (cpuMicros() - t) / n;
  t = cpuMicros();
  for (const e of encoded) await codec.decode([e]);
  const decodeUs = (cpuMicros() - t) / n;
  if (size === 2_048) mediumRoundTrip = encodeUs + decodeUs;
  if (size === 256) smallRoundTrip = encodeUs + decodeUs;
  console.log(`${`${(payload.data!.length / 1024).toFixed(1)} KiB`.padEnd(10)} ${encodeUs.toFixed(1).padStart(9)}  ${decodeUs.toFixed(1).padStart(9)}  ${(encodeUs + decodeUs).toFixed(1).padStart(12)}`);
}
// Each payload is encoded once by its writer and decoded at least once by a reader (often more: the
// worker on every cache miss, the client for queries and the report).
console.log(`\nper node (≈ ${perNode} payloads, mostly small; half at ~0.25 KiB, half at ~2 KiB, each encoded once and decoded twice): ≈ ${((perNode / 2) * (smallRoundTrip + mediumRoundTrip) * 1.5 / 1000).toFixed(2)} ms CPU`);
