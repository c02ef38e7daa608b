// @ts-check
/**
 * ESLint flat config:
 *   - typescript-eslint recommended on all code, plus type-aware promise rules (no-floating-promises,
 *     no-misused-promises, await-thenable) on the TypeScript and Vue files, typed through the project
 *     service: each file is checked with its nearest tsconfig.json (tsconfig.json for main, tests and
 *     benches; src/renderer/tsconfig.json for the renderer; test/renderer/tsconfig.json for its tests);
 *   - eslint-plugin-vue recommended (as errors) for .vue files, templates included, parsed by
 *     vue-eslint-parser with the TypeScript parser for <script setup lang="ts">;
 *   - eslint-config-prettier last: formatting is prettier's (`npm run format:check`), not ESLint's.
 * The process layers and the engine's folder order are dependency-cruiser's: .dependency-cruiser.cjs.
 */
import { defineConfig, globalIgnores } from 'eslint/config';
import prettier from 'eslint-config-prettier/flat';
import vue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

const TS_FILES = ['**/*.{ts,mts,cts,tsx}'];
const VUE_FILES = ['**/*.vue'];

export default defineConfig(
  globalIgnores(
    ['out/', 'dist/', 'coverage/', 'test-artifacts/', 'bench/results/', '**/node_modules/'],
    'cfstudio/ignores',
  ),
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended-error'],
  {
    name: 'cfstudio/vue',
    files: VUE_FILES,
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' },
    },
    rules: {
      // every component is TypeScript, so the type-aware rules below see all of it
      'vue/block-lang': ['error', { script: { lang: 'ts' } }],
      // <Gallery> is no HTML element (the rule's concern), and files are not renamed for a lint rule
      'vue/multi-word-component-names': ['error', { ignores: ['Gallery'] }],
    },
  },
  {
    name: 'cfstudio/type-aware',
    files: [...TS_FILES, ...VUE_FILES],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // `const { big, ...rest } = x` is how an object is passed on without one of its fields
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  prettier,
);
