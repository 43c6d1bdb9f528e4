import { defineConfig } from 'vitest/config';
import LongestFirstSequencer from './test/longest-first-sequencer';

export default defineConfig({
  test: {
    // bench/ holds the yardstick's own tests (bench/lib/floor.test.ts); the benchmarks themselves never run here.
    include: ['test/**/*.test.ts', 'bench/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests share one Temporal dev server and each starts its own workers; on a
    // 2-core machine a few files at a time keeps them honest without starving the server.
    maxWorkers: 2,
    testTimeout: 120_000,
    // A fresh clone has no timings cached: start the long files first (see the sequencer).
    sequence: { sequencer: LongestFirstSequencer },
    hookTimeout: 300_000,
  },
});
