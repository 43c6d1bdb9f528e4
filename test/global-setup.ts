/**
 * One real Temporal dev server (the CLI built from its Go module) for the whole run; every test uses
 * its own task queue and workflow ids. In memory: nothing survives the run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDevServer, type DevServer } from '../src/embedded/dev-server';

let server: DevServer | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = mkdtempSync(path.join(tmpdir(), 'patchwave-test-temporal-'));
  server = await startDevServer({ stateDir: dir, inMemory: true, headless: true, say: (m) => console.error(m) });
  project.provide('temporalAddress', server.address);
  process.env.PATCHWAVE_TEST_TEMPORAL_ADDRESS = server.address;
}

export async function teardown(): Promise<void> {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
  }
}
