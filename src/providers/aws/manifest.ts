/**
 * The OS-level manifest, read by a shell script run through SSM (`AWS-RunShellScript`), and the
 * script that re-applies drifted config files.
 *
 * Output is one JSON line. The package list is gzip+base64 because GetCommandInvocation returns only
 * the first 24,000 characters of stdout: a plain dpkg list of a typical server (~1,500 packages) does
 * not fit, compressed it does with room to spare. A missing end marker means the output was cut.
 *
 * Services still running replaced code come from the node's own tool (`needrestart -b -r l` on
 * Debian/Ubuntu, `needs-restarting -s` on the RHEL family), its output carried gzip+base64 like the
 * package list and read by stale-services.ts; a node with neither reports none checked.
 *
 * The script also keeps a content-addressed copy of every critical config file
 * (`<backupDir>/<sha256>`, root-only). A manifest taken before the patch therefore backs up exactly
 * the baseline content, and re-applying the baseline later copies the file whose name is the
 * baseline checksum — no matter when or how often the manifest ran.
 */
import { gunzipSync } from 'node:zlib';
import { compareVersions } from '../../domain/versions';
import { ProviderError, type NodeManifest } from '../port';
import { parseStaleServices, type StaleServicesTool } from './stale-services';
import { checkConfigPath } from './tags';

export const MANIFEST_FORMAT = 'patchwave-manifest/1';
export const DEFAULT_BACKUP_DIR = '/var/lib/patchwave/config-backup';
/** Sentinel checksum of a critical file that does not exist. */
export const ABSENT = 'absent';

const quote = (value: string) => `'${value}'`; // callers pass only checked paths and hex digests

export function manifestScript(instanceId: string, configFiles: string[], backupDir = DEFAULT_BACKUP_DIR): string[] {
  const files = configFiles.map((f) => checkConfigPath(instanceId, f));
  checkConfigPath(instanceId, backupDir);
  return [
    '#!/bin/bash',
    'set -euo pipefail',
    'umask 077',
    `backup=${quote(backupDir)}`,
    'mkdir -p "$backup"',
    // Copies older than 90 days outlive any campaign (they pause for days, not months).
    'find "$backup" -maxdepth 1 -type f -mtime +90 -delete 2>/dev/null || true',
    'if command -v dpkg-query >/dev/null 2>&1; then',
    `  fmt=dpkg; pkgs=$(dpkg-query -W -f='\${db:Status-Abbrev}\\t\${Package}\\t\${Version}\\n' | awk -F'\\t' '$1 ~ /^ii/ {print $2"\\t"$3}' | gzip -9c | base64 -w0)`,
    'elif command -v rpm >/dev/null 2>&1; then',
    `  fmt=rpm; pkgs=$(rpm -qa --qf '%{NAME}\\t%|EPOCH?{%{EPOCH}:}|%{VERSION}-%{RELEASE}\\n' | gzip -9c | base64 -w0)`,
    'else',
    '  echo "neither dpkg nor rpm found: patchwave manifests support Debian/Ubuntu and RPM-based Linux" >&2; exit 3',
    'fi',
    // List only (`-r l`): batch mode never restarts anything either, but the listing must not depend on it.
    'stale_tool=none; stale=""',
    'if command -v needrestart >/dev/null 2>&1; then',
    '  stale_tool=needrestart; stale=$(needrestart -b -r l 2>/dev/null | gzip -9c | base64 -w0) || stale_tool=failed',
    'elif command -v needs-restarting >/dev/null 2>&1; then',
    '  stale_tool=needs-restarting; stale=$(needs-restarting -s 2>/dev/null | gzip -9c | base64 -w0) || stale_tool=failed',
    'fi',
    'sums=""',
    'checksum() {',
    '  local path=$1 sum',
    `  if [ -f "$path" ]; then sum=$(sha256sum "$path" | cut -d' ' -f1); [ -e "$backup/$sum" ] || cp -p "$path" "$backup/$sum"; else sum=${ABSENT}; fi`,
    '  sums="$sums${sums:+,}\\"$path\\":\\"$sum\\""',
    '}',
    ...files.map((f) => `checksum ${quote(f)}`),
    `printf '{"format":"${MANIFEST_FORMAT}","kernel":"%s","packageFormat":"%s","packagesGzB64":"%s","configChecksums":{%s},"staleTool":"%s","staleGzB64":"%s","end":true}\\n' "$(uname -r)" "$fmt" "$pkgs" "$sums" "$stale_tool" "$stale"`,
  ];
}

interface RawManifest {
  format?: string;
  kernel?: string;
  packageFormat?: string;
  packagesGzB64?: string;
  configChecksums?: Record<string, string>;
  staleTool?: StaleServicesTool;
  staleGzB64?: string;
  end?: boolean;
}

export function parseManifest(nodeId: string, stdout: string, capturedAt: string): NodeManifest {
  const line = stdout
    .split('\n')
    .map((l) => l.trim())
    .reverse()
    .find((l) => l.startsWith('{'));
  let raw: RawManifest | undefined;
  try {
    raw = line ? (JSON.parse(line) as RawManifest) : undefined;
  } catch {
    raw = undefined;
  }
  if (!raw || raw.format !== MANIFEST_FORMAT || raw.end !== true) {
    const cut = stdout.length >= 24_000 ? ' (the output reached SSM\'s 24,000-character limit and was cut)' : '';
    throw new ProviderError(
      'conflict',
      `manifest of ${nodeId} is unreadable${cut}: expected one ${MANIFEST_FORMAT} JSON line, got ${JSON.stringify(stdout.slice(0, 200))}; run the manifest command by hand on the node to see why`,
    );
  }
  const packages: Record<string, string> = {};
  const listing = raw.packagesGzB64 ? gunzipSync(Buffer.from(raw.packagesGzB64, 'base64')).toString('utf8') : '';
  for (const row of listing.split('\n')) {
    const [name, version] = row.split('\t');
    if (!name || !version) continue;
    // Several kernels (or multilib copies) can be installed at once; the newest is the one that counts.
    if (packages[name] === undefined || compareVersions(version, packages[name]) > 0) packages[name] = version;
  }
  const staleOutput = raw.staleGzB64 ? gunzipSync(Buffer.from(raw.staleGzB64, 'base64')).toString('utf8') : '';
  const staleServices = parseStaleServices(raw.staleTool, staleOutput);
  return { nodeId, packages, kernel: raw.kernel ?? '', configChecksums: raw.configChecksums ?? {}, ...(staleServices && { staleServices }), capturedAt };
}

/** Re-applies each drifted file from the content-addressed backup of its baseline checksum. */
export function reapplyScript(instanceId: string, baseline: NodeManifest, backupDir = DEFAULT_BACKUP_DIR): string[] {
  checkConfigPath(instanceId, backupDir);
  const lines = [
    '#!/bin/bash',
    'set -euo pipefail',
    `backup=${quote(backupDir)}`,
    'restore() {',
    '  local path=$1 want=$2 have',
    `  if [ -f "$path" ]; then have=$(sha256sum "$path" | cut -d' ' -f1); else have=${ABSENT}; fi`,
    '  [ "$have" = "$want" ] && return 0',
    // A file that did not exist before the patch is moved aside, never deleted: an operator may want it.
    `  if [ "$want" = ${ABSENT} ]; then mv -f "$path" "$backup/displaced.$(date +%s).$(basename "$path")"; echo "moved aside $path"; return 0; fi`,
    '  [ -f "$backup/$want" ] || { echo "no backup of $path with sha256 $want in $backup: the pre-patch manifest did not run on this node" >&2; exit 4; }',
    // Copy then rename: the file is never half-written.
    '  cp -p "$backup/$want" "$path.patchwave-tmp" && mv -f "$path.patchwave-tmp" "$path"',
    '  echo "restored $path"',
    '}',
  ];
  for (const [path, sum] of Object.entries(baseline.configChecksums).sort()) {
    checkConfigPath(instanceId, path);
    if (sum !== ABSENT && !/^[0-9a-f]{64}$/.test(sum)) {
      throw new ProviderError('bad-input', `baseline checksum of ${path} on ${instanceId} is ${JSON.stringify(sum)}, not a sha256 hex digest; the baseline manifest is corrupt`);
    }
    lines.push(`restore ${quote(path)} ${quote(sum)}`);
  }
  return lines;
}
