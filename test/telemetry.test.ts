/**
 * The worker's log lines: one line per entry, naming what it is about and the error's messages, not
 * thirty lines of SDK frames for an expected failure (a patch that fails and is rolled back).
 */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { conciseLogLine } from '../src/telemetry';

describe('conciseLogLine', () => {
  it('an activity failure: time, level, message, the activity and workflow, the error chain — one line, no stack', () => {
    const error = new Error('Activity task failed', { cause: ApplicationFailure.create({ message: 'patch command cmd-1 on node api-03 failed: the package manager exited with code 100' }) });
    const line = conciseLogLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_764_600_000_000_000_000n,
      meta: { activityType: 'runPatch', workflowId: 'campaign:CVE-2024-6387:all/node:api-03', attempt: 1, taskQueue: 'patchwave', error },
    });
    expect(line).toBe(
      '2025-12-01T14:40:00.000Z [WARN] Activity failed (workflowId=campaign:CVE-2024-6387:all/node:api-03 activityType=runPatch attempt=1) — Activity task failed: patch command cmd-1 on node api-03 failed: the package manager exited with code 100',
    );
    expect(line).not.toContain('\n');
  });

  it('an entry without metadata is its message', () => {
    expect(conciseLogLine({ level: 'INFO', message: 'Worker state changed', timestampNanos: 0n })).toBe('1970-01-01T00:00:00.000Z [INFO] Worker state changed');
  });
});
