// Plain JavaScript with no dependencies: it runs before node_modules may exist.
//
//   node scripts/deps-check.mjs sync      exit 0 when node_modules matches package-lock.json, else 1 and why
//   node scripts/deps-check.mjs running   the processes using this checkout or its node_modules, one a line
//
// "In sync" is judged from node_modules/.package-lock.json, the hidden lockfile npm itself writes on
// every install (npm ci, npm install): every package of the lock file must be installed at its locked
// version and integrity, except optional ones npm skipped for this platform. No private stamp: a
// plain `npm ci` leaves node_modules in sync, and it is seen as such.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function syncProblem() {
  let lock;
  try {
    lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  } catch (err) {
    return `package-lock.json unreadable (${err.message})`;
  }
  let hidden;
  try {
    hidden = JSON.parse(readFileSync(path.join(root, 'node_modules', '.package-lock.json'), 'utf8'));
  } catch {
    return 'node_modules/.package-lock.json is missing (nothing installed yet, or not by npm)';
  }
  const installed = hidden.packages ?? {};
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (key === '') continue;
    const have = installed[key];
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return `${key} ${entry.version ?? ''} is not installed`;
    }
    for (const field of ['version', 'integrity', 'resolved']) {
      if (entry[field] !== undefined && have[field] !== entry[field]) {
        return `${key}: ${field} ${have[field] ?? '(none)'} installed, ${entry[field]} locked`;
      }
    }
  }
  return undefined;
}

function ancestors() {
  const out = new Set([process.pid]);
  let pid = process.ppid;
  while (pid > 1 && !out.has(pid)) {
    out.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  return out;
}

/** Processes whose command line names this checkout, or that have files of its node_modules mapped. */
function runningProcesses() {
  const modules = (() => {
    try {
      return realpathSync(path.join(root, 'node_modules'));
    } catch {
      return undefined;
    }
  })();
  const needles = [root + path.sep, ...(modules ? [modules + path.sep] : [])];
  const skip = ancestors();
  const found = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found; // not Linux: nothing to look at
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || skip.has(Number(entry))) continue;
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      continue;
    }
    let uses = needles.some((n) => cmdline.includes(n));
    if (!uses && modules) {
      try {
        // A worker maps the SDK's native core bridge (a .node file) from node_modules.
        uses = readFileSync(`/proc/${entry}/maps`, 'utf8').includes(modules + path.sep);
      } catch {
        // another user's process, or gone
      }
    }
    if (uses) found.push(`${entry} ${cmdline.slice(0, 160)}`);
  }
  return found;
}

const mode = process.argv[2];
if (mode === 'sync') {
  const problem = syncProblem();
  if (problem) {
    process.stdout.write(`${problem}\n`);
    process.exit(1);
  }
} else if (mode === 'running') {
  for (const line of runningProcesses()) process.stdout.write(`${line}\n`);
} else {
  process.stderr.write('usage: node scripts/deps-check.mjs sync|running\n');
  process.exit(2);
}
