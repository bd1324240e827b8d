import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'src/datapath/abi.generated.ts', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The policy compiler and evaluator are pure: no I/O, no clock, no addon.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['node:*', 'fs', 'path', 'os', 'child_process', 'net', 'http', 'https', 'dgram'], message: 'src/policy is pure: no I/O.' },
          { group: ['**/datapath/**', '**/native*', '**/sources/**', '**/reconcile/**', '**/observe/**', '**/cli/**'], message: 'src/policy must not depend on later stages.' },
        ],
      }],
      'no-restricted-globals': ['error', { name: 'Date', message: 'src/policy is pure: no clock.' }, { name: 'process', message: 'src/policy is pure.' }],
      'no-restricted-properties': ['error', { object: 'Math', property: 'random', message: 'src/policy is deterministic.' }],
    },
  },
  {
    // Only src/datapath/native.ts loads the addon.
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    ignores: ['src/datapath/native.ts'],
    rules: {
      'no-restricted-syntax': ['error', {
        selector: "Literal[value=/moat_native\\.node$/]",
        message: 'Only src/datapath/native.ts loads the native addon.',
      }],
    },
  },
);
