// @ts-check
/**
 * ESLint flat config: typescript-eslint recommended (syntax only, not type-aware, to stay fast)
 * plus the layering rules of docs/DESIGN.md "Layout", in the spirit of VS Code's import-pattern rules:
 *
 *   src/main/engine/** (and src/main/cli.ts,  no `electron`; nothing from src/main/{index,ipc,security},
 *   src/main/cli/**)                          src/preload, src/renderer
 *   src/main/** (other)                       nothing from src/preload, src/renderer
 *   everywhere but src/main/engine/store/**   no `better-sqlite3`: every SQL statement lives in the store
 *   src/preload/**                            only `electron` and src/shared/**
 *   src/renderer/**                           no `electron`, no Node built-ins, nothing from src/main, src/preload
 *   src/shared/**                             no `electron`, no Node built-ins, nothing from main/preload/renderer
 *
 * Implemented with core `no-restricted-imports` (static import/export-from only; not `import()`/require).
 * Its patterns see the specifier text, not the resolved file, so relative specifiers are matched with
 * regexes generated per folder depth (`../ipc` is main/ipc from engine/x.ts but engine/ipc from
 * engine/data/x.ts). Each file therefore matches exactly one layer block below; flat config replaces
 * (does not merge) a rule's options when two blocks match, so keep layer globs disjoint.
 *
 * `.vue` files: a tiny processor lints only their <script> blocks, and only for the layering rule
 * (no vue-eslint-parser here; template usage would confuse no-unused-vars etc.).
 */
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const CODE_EXT = '{ts,mts,cts,tsx,js,mjs,cjs}';
const CODE_FILES = [`**/*.${CODE_EXT}`];
/** Folder depth below a layer root covered by the generated rules (engine/features/onnx/x.ts is depth 2). */
const MAX_DEPTH = 12;

const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));
const esc = (/** @type {string} */ s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const ups = (/** @type {number} */ n) => `(?:\\.\\./){${n}}`;
/** after a target path: optional extension, then end or a subpath */
const TAIL = '(?:\\.[a-z]+)?(?:/|$)';

/** @typedef {{ regex: string, message: string }} RegexPattern */

/** Bare module names (and their subpaths) → patterns. */
function barePatterns(/** @type {string[]} */ names, /** @type {string} */ message) {
  return [{ regex: `^(?:${names.map(esc).join('|')})(?:/|$)`, message }];
}
const NODE_PATTERNS = [
  ...barePatterns(NODE_BUILTINS, 'Node built-ins are not available here.'),
  { regex: '^node:', message: 'Node built-ins are not available here.' },
];
const ELECTRON_PATTERNS = barePatterns(['electron'], '`electron` may not be imported here.');

/**
 * Deny mode: regexes for specifiers that, written in a file `depth` folders below `layerDir`,
 * resolve into the project path `target` (a folder, or a module such as 'src/main/index').
 * @param {string} layerDir @param {number} depth @param {string} target @param {string} message
 * @returns {RegexPattern[]}
 */
function denyPatterns(layerDir, depth, target, message) {
  const parts = layerDir.split('/');
  // non-relative forms: 'src/main/ipc' (baseUrl-style) and absolute '/…/src/main/ipc'
  const patterns = [{ regex: `^(?:/(?:.*/)?)?${esc(target)}${TAIL}`, message }];
  const isIndex = target.endsWith('/index');
  // i = 0 is the layer folder itself (a sibling of a layer-root file, e.g. './ipc' from src/main/cli.ts)
  for (let i = 0; i <= parts.length; i++) {
    const ancestor = parts.slice(0, parts.length - i).join('/'); // '' = project root
    const prefix = ancestor ? `${ancestor}/` : '';
    if (!target.startsWith(prefix)) continue;
    const n = depth + i; // how many '../' reach `ancestor`
    const lead = n === 0 ? '\\./' : ups(n);
    const rest = target.slice(prefix.length);
    patterns.push({ regex: `^${lead}${esc(rest)}${TAIL}`, message });
    if (isIndex) {
      // '..', '../', '.', '../../main', ...: the folder itself resolves to its index
      const folderRest = rest.slice(0, -'/index'.length);
      const self = n === 0 ? '\\.' : `${ups(n - 1)}\\.\\.`;
      patterns.push({ regex: folderRest ? `^${lead}${esc(folderRest)}/?$` : `^${self}/?$`, message });
    }
  }
  return patterns;
}

/**
 * Allow mode: regexes for relative specifiers that resolve outside every folder in `allowedDirs`
 * (the layer itself must be one of them).
 * @param {string} layerDir @param {number} depth @param {string[]} allowedDirs @param {string} message
 * @returns {RegexPattern[]}
 */
function allowOnlyPatterns(layerDir, depth, allowedDirs, message) {
  const parts = layerDir.split('/');
  const patterns = [];
  for (let i = 1; i <= parts.length; i++) {
    const ancestor = parts.slice(0, parts.length - i).join('/');
    const prefix = ancestor ? `${ancestor}/` : '';
    const rests = allowedDirs.filter((d) => d.startsWith(prefix)).map((d) => esc(d.slice(prefix.length)));
    // at this level: stop here and not into an allowed folder (going further up is checked one level up)
    patterns.push({ regex: `^${ups(depth + i)}(?!\\.\\.(?:/|$)|(?:${rests.join('|')})(?:/|$))`, message });
    patterns.push({ regex: `^${ups(depth + i - 1)}\\.\\.$`, message }); // '../..' = the ancestor itself
  }
  patterns.push({ regex: `^${ups(depth + parts.length)}\\.\\.(?:/|$)`, message }); // outside the project
  return patterns;
}

/**
 * One flat-config block per folder depth below `layerDir`, each with the complete rule for that depth.
 * @param {object} layer
 * @param {string} layer.name
 * @param {string} layer.dir
 * @param {(depth: number) => RegexPattern[]} layer.patterns
 * @param {string[]} [layer.ignores]
 * @param {string} [layer.only] a single file instead of the whole folder (depth 0)
 */
function layerBlocks({ name, dir, patterns, ignores = [], only }) {
  const blocks = [];
  for (let depth = 0; depth <= (only ? 0 : MAX_DEPTH); depth++) {
    const sub = `${dir}/${'*/'.repeat(depth)}`;
    const files = only ? [only] : [`${sub}*.${CODE_EXT}`, `${sub}*.vue/*.vuescript`];
    blocks.push({
      name: `cfstudio/layering/${name}/depth-${depth}`,
      files,
      ignores,
      rules: { 'no-restricted-imports': ['error', { patterns: patterns(depth) }] },
    });
  }
  return blocks;
}

const ENGINE_DENIED = ['src/main/index', 'src/main/ipc', 'src/main/security', 'src/preload', 'src/renderer'];
const engineLike =
  (/** @type {string} */ dir, /** @type {string} */ who) => (/** @type {number} */ depth) => [
    ...ELECTRON_PATTERNS.map((p) => ({
      ...p,
      message: `${who} is Electron-free (CLI, workers and tests run it in plain Node).`,
    })),
    ...ENGINE_DENIED.flatMap((t) =>
      denyPatterns(
        dir,
        depth,
        t,
        `${who} may not import ${t} (the desktop side calls the engine, not the reverse).`,
      ),
    ),
  ];

const SQL_PATTERNS = barePatterns(
  ['better-sqlite3'],
  'SQL lives only in src/main/engine/store: use its repositories (Workspace).',
);

/**
 * Main-process code that also runs in plain Node (the browser preview, the UI tests): the IPC
 * handlers and their helpers, and the preview server. Only src/main/ipc/index.ts touches Electron.
 */
const ELECTRON_FREE_MAIN = ['src/main/preview/**', 'src/main/ipc/**'];
const electronFreeMain = (/** @type {string} */ dir) => (/** @type {number} */ depth) => [
  ...SQL_PATTERNS,
  ...ELECTRON_PATTERNS.map((p) => ({
    ...p,
    message:
      'This part of main also runs in plain Node (browser preview, tests): only src/main/ipc/index.ts may import `electron`.',
  })),
  ...['src/preload', 'src/renderer', 'src/main/index', 'src/main/security'].flatMap((t) =>
    denyPatterns(
      dir,
      depth,
      t,
      `The IPC handlers and the preview may not import ${t}; share types via src/shared.`,
    ),
  ),
];

const layers = [
  ...layerBlocks({
    name: 'ipc-handlers',
    dir: 'src/main/ipc',
    ignores: ['src/main/ipc/index.ts'],
    patterns: electronFreeMain('src/main/ipc'),
  }),
  ...layerBlocks({
    name: 'ipc-electron',
    dir: 'src/main/ipc',
    only: 'src/main/ipc/index.ts',
    patterns: (depth) => [
      ...SQL_PATTERNS,
      ...['src/preload', 'src/renderer'].flatMap((t) =>
        denyPatterns(
          'src/main/ipc',
          depth,
          t,
          `The main process may not import ${t}; share types via src/shared.`,
        ),
      ),
    ],
  }),
  ...layerBlocks({
    name: 'preview',
    dir: 'src/main/preview',
    patterns: electronFreeMain('src/main/preview'),
  }),
  ...layerBlocks({
    name: 'main',
    dir: 'src/main',
    ignores: ['src/main/engine/**', 'src/main/cli.ts', 'src/main/cli/**', ...ELECTRON_FREE_MAIN],
    patterns: (depth) => [
      ...SQL_PATTERNS,
      ...['src/preload', 'src/renderer'].flatMap((t) =>
        denyPatterns(
          'src/main',
          depth,
          t,
          `The main process may not import ${t}; share types via src/shared.`,
        ),
      ),
    ],
  }),
  ...layerBlocks({
    name: 'engine',
    dir: 'src/main/engine',
    ignores: ['src/main/engine/store/**'],
    patterns: (depth) => [...SQL_PATTERNS, ...engineLike('src/main/engine', 'The engine')(depth)],
  }),
  ...layerBlocks({
    name: 'store',
    dir: 'src/main/engine/store',
    patterns: engineLike('src/main/engine/store', 'The store'),
  }),
  ...layerBlocks({
    name: 'cli',
    dir: 'src/main',
    only: 'src/main/cli.ts',
    patterns: (depth) => [...SQL_PATTERNS, ...engineLike('src/main', 'The CLI')(depth)],
  }),
  ...layerBlocks({
    name: 'cli-commands',
    dir: 'src/main/cli',
    patterns: (depth) => [...SQL_PATTERNS, ...engineLike('src/main/cli', 'The CLI')(depth)],
  }),
  ...layerBlocks({
    name: 'preload',
    dir: 'src/preload',
    patterns: (depth) => [
      { regex: '^(?![./]|electron$)', message: 'The preload may import only `electron` and src/shared.' },
      ...allowOnlyPatterns(
        'src/preload',
        depth,
        ['src/preload', 'src/shared'],
        'The preload may import only `electron` and src/shared.',
      ),
    ],
  }),
  ...layerBlocks({
    name: 'renderer',
    dir: 'src/renderer',
    patterns: (depth) => [
      ...ELECTRON_PATTERNS.map((p) => ({
        ...p,
        message: 'The renderer talks to main only via window.cfstudio.',
      })),
      ...NODE_PATTERNS.map((p) => ({
        ...p,
        message: 'The renderer is a sandboxed web page: no Node built-ins.',
      })),
      ...['src/main', 'src/preload'].flatMap((t) =>
        denyPatterns(
          'src/renderer',
          depth,
          t,
          `The renderer may not import ${t}; use src/shared and window.cfstudio.`,
        ),
      ),
    ],
  }),
  ...layerBlocks({
    name: 'shared',
    dir: 'src/shared',
    patterns: (depth) => [
      ...ELECTRON_PATTERNS.map((p) => ({
        ...p,
        message: 'src/shared is imported by the renderer: no `electron`.',
      })),
      ...NODE_PATTERNS.map((p) => ({
        ...p,
        message: 'src/shared is imported by the renderer: no Node built-ins.',
      })),
      ...['src/main', 'src/preload', 'src/renderer'].flatMap((t) =>
        denyPatterns('src/shared', depth, t, `src/shared imports nothing from ${t}.`),
      ),
    ],
  }),
];

/** Hands ESLint the <script> blocks of a .vue file, padded so that line/column numbers stay right. */
const vueScripts = {
  meta: { name: 'cfstudio/vue-scripts', version: '1.0.0' },
  supportsAutofix: false,
  preprocess(/** @type {string} */ text) {
    const blocks = [];
    for (const m of text.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)) {
      const start = (m.index ?? 0) + m[0].length - m[1].length - '</script>'.length;
      const before = text.slice(0, start);
      const lineStart = before.lastIndexOf('\n') + 1;
      const pad = '\n'.repeat(before.split('\n').length - 1) + ' '.repeat(start - lineStart);
      blocks.push({ text: pad + m[1], filename: `${blocks.length}.vuescript` });
    }
    return blocks;
  },
  postprocess(/** @type {import('eslint').Linter.LintMessage[][]} */ messages) {
    return messages.flat();
  },
};

export default [
  {
    name: 'cfstudio/ignores',
    ignores: ['out/', 'dist/', 'coverage/', 'test-artifacts/', 'bench/results/', '**/node_modules/'],
  },
  // parser + plugin everywhere, recommended rules on real code files only (not on .vue script blocks)
  ...tseslint.configs.recommended.map((c) => (c.rules && !c.files ? { ...c, files: CODE_FILES } : c)),
  { name: 'cfstudio/vue', files: ['**/*.vue'], processor: vueScripts },
  {
    name: 'cfstudio/vue-script-blocks',
    files: ['**/*.vue/*.vuescript'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
  },
  ...layers,
];
