// Lint enforces the rules that keep patchwave honest: workflow code stays deterministic (it may
// import only the workflow SDK, common, the domain and types), the domain stays pure (no I/O and no
// other layer), dependencies point down (each room of src/ imports only the rooms below it; nothing
// imports the CLI), and no promise is left floating. docs/architecture.md draws the layers.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import tseslint from 'typescript-eslint';

/** Every room of src/ (folders, and the top-level modules worker.ts, telemetry.ts, concurrency.ts), read from disk so a new one is covered. */
const ROOMS = readdirSync(path.join(import.meta.dirname, 'src'), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() || entry.name.endsWith('.ts'))
  .map((entry) => entry.name.replace(/\.ts$/, ''));

/**
 * What each room may import from the others (relative imports; packages are the workflow and domain
 * rules' business below). A room missing here may import anything but the CLI.
 */
const MAY_IMPORT = {
  domain: [],
  concurrency: [],
  telemetry: [],
  config: ['domain'],
  temporal: ['domain'],
  providers: ['domain'],
  workflows: ['domain', 'activities'], // activities by `import type` only (the workflow rule below)
  activities: ['domain', 'providers', 'workflows', 'temporal', 'concurrency'],
  client: ['domain', 'workflows', 'temporal'],
  report: ['domain', 'workflows', 'client', 'temporal', 'concurrency'],
  ingress: ['domain', 'workflows', 'client', 'temporal'],
  worker: ['domain', 'activities', 'config', 'providers', 'temporal', 'workflows'],
  embedded: ROOMS.filter((room) => !['cli', 'ingress', 'embedded'].includes(room)),
};

const WHY = {
  domain: 'src/domain is pure and depends on nothing else in src: the other layers depend on it',
  workflows: 'workflow code never imports a provider, a client or anything with I/O: fleet data types live in src/domain',
  embedded: 'embedded never imports the CLI (or the ingress): shared code lives in client/, report/ or embedded/',
};

/** Relative imports a file `depth` folders below src/ may not make: into the rooms its own room may not import. */
function layerPatterns(room, depth) {
  const allowed = MAY_IMPORT[room] ?? ROOMS.filter((r) => r !== 'cli');
  const forbidden = ROOMS.filter((r) => r !== room && !allowed.includes(r));
  if (forbidden.length === 0) return [];
  const up = depth === 0 ? '\\./' : '(\\.\\./){' + depth + '}';
  return [
    {
      regex: `^${up}(${forbidden.join('|')})(/|$)`,
      message: WHY[room] ?? `dependencies point down: ${room} may import only ${allowed.length > 0 ? allowed.join(', ') : 'nothing else in src'} (docs/architecture.md)`,
    },
  ];
}

/** Packages the domain may not use: anything that does I/O, talks to Temporal or AWS, or serves. */
const DOMAIN_PACKAGES = {
  regex: '^(node:|(fs|path|os|net|http|https|child_process|crypto|url|zlib|dns|tls|worker_threads)(/|$)|@temporalio/|@aws-sdk/|fastify|@fastify/|pino|commander|cli-progress|picocolors|protobufjs)',
  message: 'src/domain is pure: no I/O, no Temporal, no AWS',
};

/** One `no-restricted-imports` per room and depth (flat config replaces a rule's options, it does not merge them). */
const layerRules = ROOMS.filter((room) => room !== 'cli').flatMap((room) =>
  [1, 2, 3].map((depth) => ({
    files: [`src/${room}/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...layerPatterns(room, depth), ...(room === 'domain' ? [DOMAIN_PACKAGES] : [])] }],
    },
  })),
);

/** The top-level modules (src/worker.ts …) import what their room allows, with `./`. */
const topLevelRules = ROOMS.filter((room) => room !== 'cli' && readdirSync(path.join(import.meta.dirname, 'src')).includes(`${room}.ts`)).map((room) => ({
  files: [`src/${room}.ts`],
  rules: { 'no-restricted-imports': ['error', { patterns: layerPatterns(room, 0) }] },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', 'test-artifacts/**', '.patchwave/**'] },
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'chaos/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/(workflow|common)$|\\.\\./domain/|\\./)',
              allowTypeImports: true,
              message: 'workflow code may import only @temporalio/workflow, @temporalio/common and src/domain; anything else with `import type`',
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports' }],
    },
  },
  {
    // The domain has no clock, no randomness and no environment: workflows call it deterministically.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'src/domain has no clock: take the time as an argument' },
        { object: 'Math', property: 'random', message: 'src/domain has no randomness: take a seed or the values as arguments' },
      ],
      'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/domain has no clock: take the time as an argument' }],
      'no-restricted-globals': ['error', ...['process', 'setTimeout', 'setInterval', 'fetch'].map((name) => ({ name, message: 'src/domain does no I/O and reads no environment' }))],
    },
  },
  ...layerRules,
  ...topLevelRules,
);
