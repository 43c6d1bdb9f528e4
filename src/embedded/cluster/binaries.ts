/**
 * The three Go binaries of the production topology — the Temporal server, its SQL tool and the UI
 * server — built once with `go install` at the versions of deploy/topology.yaml and cached in
 * ~/.cache/patchwave/bin, like the Temporal CLI (src/embedded/temporal-cli.ts). A cached binary is
 * trusted only after it reports the expected version.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { cacheDir, versionOf, type Say } from '../temporal-cli';
import { loadTopology } from './topology';


export interface GoTool {
  /** Human name, for progress messages. */
  label: string;
  module: string;
  version: string;
  /** The name `go install` gives the binary (the last path element of the module path). */
  builtName: string;
  /** Cached as `<cache>/bin/<file>-<version>`. */
  file: string;
  /** What `<binary> --version` prints. */
  expectedVersion: string;
  /** Environment variable that points at an existing binary instead. */
  env: string;
}

export function clusterTools(): { server: GoTool; sqlTool: GoTool; ui: GoTool } {
  const { versions } = loadTopology();
  return {
    server: {
      label: 'Temporal server',
      module: 'go.temporal.io/server/cmd/server',
      version: `v${versions.temporalServer}`,
      builtName: 'server',
      file: 'temporal-server',
      expectedVersion: `version ${versions.temporalServer}`,
      env: 'PATCHWAVE_TEMPORAL_SERVER',
    },
    sqlTool: {
      label: 'Temporal SQL tool',
      module: 'go.temporal.io/server/cmd/tools/sql',
      version: `v${versions.temporalServer}`,
      builtName: 'sql',
      file: 'temporal-sql-tool',
      expectedVersion: `version ${versions.temporalServer}`,
      env: 'PATCHWAVE_TEMPORAL_SQL_TOOL',
    },
    ui: {
      label: 'Temporal UI server',
      module: 'github.com/temporalio/ui-server/v2/cmd/server',
      version: `v${versions.temporalUi}`,
      builtName: 'server',
      file: 'temporal-ui-server',
      expectedVersion: `version ${versions.temporalUi}`,
      env: 'PATCHWAVE_TEMPORAL_UI_SERVER',
    },
  };
}

export function cachedToolPath(tool: GoTool): string {
  return path.join(cacheDir(), 'bin', `${tool.file}-${tool.version.replace(/^v/, '')}`);
}

/** Resolves one tool: its env override, else the version-checked cache, else a `go install` build. */
export async function ensureGoTool(tool: GoTool, say: Say): Promise<string> {
  const explicit = process.env[tool.env];
  if (explicit) {
    const version = await versionOf(explicit);
    if (!version?.includes(tool.expectedVersion)) throw new Error(`${tool.env}=${explicit} reports "${version ?? 'nothing'}", expected ${tool.label} ${tool.version}`);
    return explicit;
  }
  const cached = cachedToolPath(tool);
  if (existsSync(cached)) {
    const version = await versionOf(cached);
    if (version?.includes(tool.expectedVersion)) return cached;
    say(`patchwave: cached ${tool.label} at ${cached} reports "${version ?? 'nothing'}", expected ${tool.version}; rebuilding it`);
  }
  await goInstall(tool, cached, say);
  const version = await versionOf(cached);
  if (!version?.includes(tool.expectedVersion)) throw new Error(`built ${cached} but it reports "${version}", expected ${tool.label} ${tool.version}`);
  return cached;
}

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  /** Absent when the cluster runs without the UI server. */
  ui?: string;
}

/** One after the other (each build already uses every core); the UI server only when wanted. */
export async function ensureClusterBinaries(say: Say, options: { ui?: boolean } = {}): Promise<ClusterBinaries> {
  const tools = clusterTools();
  const server = await ensureGoTool(tools.server, say);
  const sqlTool = await ensureGoTool(tools.sqlTool, say);
  return { server, sqlTool, ui: (options.ui ?? true) ? await ensureGoTool(tools.ui, say) : undefined };
}

async function goInstall(tool: GoTool, target: string, say: Say): Promise<void> {
  const go = findOnPath('go');
  if (!go) throw new Error(`the ${tool.label} is built from its Go module and needs Go 1.25+ on PATH (or set ${tool.env} to an existing ${tool.version} binary)`);
  // One GOBIN per tool: the server and the UI server are both built as `server`.
  const gobin = path.join(cacheDir(), 'gobuild', tool.file);
  mkdirSync(gobin, { recursive: true });
  mkdirSync(path.dirname(target), { recursive: true });
  say(`patchwave: building the ${tool.label} ${tool.version} from ${tool.module} (first run only; minutes on 2 cores, at low priority)…`);
  const started = Date.now();
  // `nice`: the build machines are shared, and a cold server build keeps every core busy for minutes.
  const nice = findOnPath('nice');
  const [command, args] = nice ? [nice, ['-n', '10', go, 'install', `${tool.module}@${tool.version}`]] : [go, ['install', `${tool.module}@${tool.version}`]];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, GOBIN: gobin, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let downloads = 0;
    child.stderr.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      stderr += text;
      downloads += (text.match(/go: downloading/g) ?? []).length;
    });
    const progress = setInterval(() => say(`patchwave: … still building the ${tool.label} (${Math.round((Date.now() - started) / 1000)}s, ${downloads} modules fetched)`), 20_000);
    child.on('error', (err) => {
      clearInterval(progress);
      reject(err);
    });
    child.on('exit', (code) => {
      clearInterval(progress);
      if (code === 0) resolve();
      else reject(new Error(`go install ${tool.module}@${tool.version} failed (exit ${code}):\n${stderr.split('\n').slice(-15).join('\n')}`));
    });
  });
  renameSync(path.join(gobin, tool.builtName), target);
  say(`patchwave: ${tool.label} built in ${Math.round((Date.now() - started) / 1000)}s → ${target}`);
}

export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}
