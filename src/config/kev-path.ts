import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultKevPath } from '../domain/alerts/kev-path';

/** The repository root: this file lives in src/config/. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The environment variable that points patchwave at another KEV catalog file. */
export const KEV_PATH_ENV = 'PATCHWAVE_KEV_PATH';

/**
 * Where the KEV catalog is read from and refreshed to: `PATCHWAVE_KEV_PATH` when set (relative to
 * the working directory), else data/kev/known_exploited_vulnerabilities.json in this repository.
 * The environment is read here, at the edge, never in src/domain.
 */
export function resolveKevPath(env: Record<string, string | undefined> = process.env, cwd: string = process.cwd()): string {
  return resolve(cwd, defaultKevPath(REPO_ROOT, env[KEV_PATH_ENV]));
}
