import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveTarget } from '../../src/temporal/connection';

describe('where a process connects', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('takes TLS and the API key from the standard environment (envconfig)', () => {
    vi.stubEnv('TEMPORAL_ADDRESS', 'temporal.example:7233');
    vi.stubEnv('TEMPORAL_TLS_SERVER_NAME', 'temporal');
    vi.stubEnv('TEMPORAL_API_KEY', 'k-123');
    const { connectionOptions } = resolveTarget();
    expect(connectionOptions.address).toBe('temporal.example:7233');
    expect(connectionOptions.tls).toMatchObject({ serverNameOverride: 'temporal' });
    expect(connectionOptions.apiKey).toBe('k-123');
  });

  it('connects to the embedded dev server plainly, whatever the shell says about another server', () => {
    vi.stubEnv('TEMPORAL_TLS_SERVER_NAME', 'temporal');
    vi.stubEnv('TEMPORAL_API_KEY', 'k-123');
    const { connectionOptions } = resolveTarget({ address: '127.0.0.1:40055', embedded: true });
    expect(connectionOptions.address).toBe('127.0.0.1:40055');
    expect(connectionOptions.tls).toBeUndefined();
    expect(connectionOptions.apiKey).toBeUndefined();
  });
});
