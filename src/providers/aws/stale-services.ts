/**
 * Services still running code a patch replaced, as the node's own tools report them: `needrestart
 * -b` on Debian and Ubuntu (its batch format, README.batch.md of needrestart), `needs-restarting -s`
 * on the RHEL family (dnf-plugins-core / yum-utils: one systemd unit per line). The manifest script
 * runs whichever the node has (manifest.ts); these pure functions read what it printed.
 */

/** Which tool produced the output; `none`: neither is installed, `failed`: it ran and failed. */
export type StaleServicesTool = 'needrestart' | 'needs-restarting' | 'none' | 'failed';

/** A systemd service unit, the only thing `restartServices` may restart (user managers excluded). */
const SERVICE_UNIT = /^[A-Za-z0-9:_.\\@-]+\.service$/;

function services(names: Iterable<string>): string[] {
  // `user@<uid>.service` is a user's whole session manager: restarting it logs the user out, and
  // needrestart reports those sessions separately (NEEDRESTART-SESS).
  return [...new Set([...names].filter((n) => SERVICE_UNIT.test(n) && !n.startsWith('user@')))].sort();
}

/** `needrestart -b`: one `NEEDRESTART-SVC: <unit>` line per service; other lines (kernel, sessions, containers) are not services. */
export function parseNeedrestart(output: string): string[] {
  const names: string[] = [];
  for (const line of output.split('\n')) {
    const match = /^NEEDRESTART-SVC:\s*(\S+)\s*$/.exec(line.replace(/\r$/, ''));
    if (match) names.push(match[1]!);
  }
  return services(names);
}

/** `needs-restarting -s`: one unit per line; anything else dnf prints (subscription notices) is not a unit. */
export function parseNeedsRestarting(output: string): string[] {
  return services(output.split('\n').map((line) => line.trim()));
}

/** The services the tool reported, or undefined when it could not tell (not installed, or failed): not checked. */
export function parseStaleServices(tool: StaleServicesTool | undefined, output: string): string[] | undefined {
  if (tool === 'needrestart') return parseNeedrestart(output);
  if (tool === 'needs-restarting') return parseNeedsRestarting(output);
  return undefined;
}
