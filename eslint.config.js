// Lint enforces the rules that keep patchwave honest: workflow code stays deterministic (it may
// import only the workflow SDK, common, the domain and types), the domain stays pure (no I/O and no
// other layer), dependencies point down (nothing below the CLI imports it), and no promise is left
// floating. docs/architecture.md draws the layers.
import tseslint from 'typescript-eslint';

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
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+cli(/|$)', message: 'dependencies point down: only the CLI imports the CLI (shared code lives in client/, report/ or embedded/)' }] },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(node:|@temporalio/|@aws-sdk/|fastify|pino)', message: 'src/domain is pure: no I/O, no Temporal, no AWS' },
            {
              regex: '^(\\.\\./)+(providers|activities|workflows|client|cli|embedded|ingress|report|config|worker)(/|$)',
              message: 'src/domain depends on nothing else in src: the other layers depend on it',
            },
          ],
        },
      ],
    },
  },
);
