/**
 * Where the local KEV catalog lives. Pure: the caller supplies the repository root and the
 * `PATCHWAVE_KEV_PATH` value it read (see src/config/kev-path.ts), so this file stays free of
 * environment and file-system access and may be imported anywhere in the domain.
 */
export const KEV_DIRECTORY = 'data/kev';
/** The file name CISA publishes the catalog under; `patchwave kev refresh` writes the same name. */
export const KEV_FILE_NAME = 'known_exploited_vulnerabilities.json';

/** `<repoRoot>/data/kev/known_exploited_vulnerabilities.json`, unless an override path is given. */
export function defaultKevPath(repoRoot: string, overridePath?: string): string {
  if (overridePath !== undefined && overridePath.trim().length > 0) return overridePath.trim();
  const root = repoRoot.replace(/[\\/]+$/, '');
  return `${root}/${KEV_DIRECTORY}/${KEV_FILE_NAME}`;
}
