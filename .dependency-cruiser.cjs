// @ts-check
/**
 * The layers of CF Studio (../shared/docs/DESIGN.md "Layout"), checked by dependency-cruiser on the
 * resolved files of every import, export-from, import() and type-only import in src (`npm run depcruise`):
 *
 *   engine-no-electron          src/main/engine/** never imports `electron` (the CLI, workers and tests run it in plain Node)
 *   engine-not-to-desktop       src/main/engine/** imports nothing from src/main outside the engine, src/preload, src/renderer, src/shared
 *   engine-order-<folder>       the engine's folders import one way, lowest first: ENGINE_ORDER below (no cycles between folders)
 *   front-ends-use-studio       src/main outside the engine (CLI, IPC, preview, app) imports only engine/studio and engine/util
 *   cli-not-to-desktop          src/main/cli.ts, src/main/cli/** import no `electron`, nothing from src/main/{index,security}.ts, src/main/ipc
 *   electron-free-main          src/main/ipc/** (but ipc/index.ts) and src/main/preview/** run in plain Node too: no `electron`
 *   ipc-preview-not-to-app      src/main/ipc/** (but ipc/index.ts) and src/main/preview/** import nothing from src/main/{index,security}.ts
 *   main-not-to-ui              src/main/** imports nothing from src/preload, src/renderer (types go through src/shared)
 *   sql-only-in-store           `better-sqlite3` is imported only in src/main/engine/store/** (every SQL statement lives there)
 *   preload-only-electron-shared src/preload/** imports only `electron` and src/shared/**
 *   renderer-not-to-main        src/renderer/** imports no `electron`, nothing from src/main, src/preload (it talks via window.cfstudio)
 *   renderer-no-node-builtins   src/renderer/** imports no Node built-ins (a sandboxed web page)
 *   shared-self-contained       src/shared/** imports only src/shared (no npm packages, no Node built-ins): all three processes load it
 *   no-circular                 no import cycles anywhere in src
 *   not-to-unresolvable         every import resolves to a file (or a Node built-in)
 *   no-non-package-json         every npm package imported is declared in package.json
 *
 * Paths are the resolved files relative to the project root: `src/…`, `node_modules/<pkg>/…`; Node built-ins
 * are dependency type `core`. test/unit/layering.test.ts runs these rules on a small project of its own.
 */

/** The engine's top-level folders, lowest first: a folder imports only itself and the folders before it. */
const ENGINE_ORDER = [
  'util',
  'backend',
  'data',
  'features',
  'flow',
  'train',
  'baselines',
  'detector',
  'model',
  'eval',
  'export',
  'store',
  'jobs',
  'studio',
];

/** The resolved path of an npm package (its own files or its @types), wherever node_modules is. */
const pkg = (/** @type {string} */ name) => `(^|/)node_modules/(@types/)?${name}/`;
const ELECTRON = pkg('electron');
const ENGINE = '^src/main/engine/';
/** src/main outside the engine: the front ends (CLI, IPC, preview) and the app. */
const FRONT_ENDS = '^src/main/(?!engine/)';
const CLI = '^src/main/cli(\\.ts$|/)';
const ELECTRON_FREE_MAIN = '^src/main/(ipc|preview)/';
const IPC_ELECTRON = '^src/main/ipc/index\\.ts$';

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const engineOrder = ENGINE_ORDER.slice(0, -1).map((folder, i) => {
  const later = ENGINE_ORDER.slice(i + 1);
  return {
    name: `engine-order-${folder}`,
    severity: 'error',
    comment:
      `engine folders import one way: ${ENGINE_ORDER.join(' → ')}. engine/${folder} may not import ` +
      `engine/{${later.join(',')}}: those folders build on ${folder}, so an import back is a cycle ` +
      `between folders. Move the shared code down into ${folder} (or lower), or the caller up.`,
    from: { path: `${ENGINE}${folder}/` },
    to: { path: `${ENGINE}(${later.join('|')})/` },
  };
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'engine-no-electron',
      severity: 'error',
      comment: 'The engine is Electron-free: the CLI, the workers and the tests run it in plain Node.',
      from: { path: ENGINE },
      to: { path: ELECTRON },
    },
    {
      name: 'engine-not-to-desktop',
      severity: 'error',
      comment:
        'The engine imports nothing from src/main outside the engine, src/preload, src/renderer or ' +
        'src/shared: the desktop side and the CLI call the engine, not the reverse.',
      from: { path: ENGINE },
      to: { path: '^src/(main/(?!engine/)|preload/|renderer/|shared/)' },
    },
    ...engineOrder,
    {
      name: 'front-ends-use-studio',
      severity: 'error',
      comment:
        'The CLI, the IPC handlers, the preview and the app are adapters over one application layer: ' +
        'from the engine they import only engine/studio (use cases, run records, domain errors) and ' +
        'engine/util. Add or export what they need in engine/studio.',
      from: { path: FRONT_ENDS },
      to: { path: ENGINE, pathNot: `${ENGINE}(studio|util)/` },
    },
    {
      name: 'cli-not-to-desktop',
      severity: 'error',
      comment:
        'The CLI runs in plain Node: no `electron`, nothing from the app (src/main/index.ts, ' +
        'src/main/security.ts) or the IPC handlers.',
      from: { path: CLI },
      to: { path: [ELECTRON, '^src/main/(index|security)\\.ts$', '^src/main/ipc/'] },
    },
    {
      name: 'electron-free-main',
      severity: 'error',
      comment:
        'The IPC handlers and the preview also run in plain Node (browser preview, tests): only ' +
        'src/main/ipc/index.ts may import `electron`.',
      from: { path: ELECTRON_FREE_MAIN, pathNot: IPC_ELECTRON },
      to: { path: ELECTRON },
    },
    {
      name: 'ipc-preview-not-to-app',
      severity: 'error',
      comment:
        'The IPC handlers and the preview may not import the app (src/main/index.ts, src/main/security.ts).',
      from: { path: ELECTRON_FREE_MAIN, pathNot: IPC_ELECTRON },
      to: { path: '^src/main/(index|security)\\.ts$' },
    },
    {
      name: 'main-not-to-ui',
      severity: 'error',
      comment: 'The main process may not import src/preload or src/renderer; share types via src/shared.',
      from: { path: '^src/main/', pathNot: ENGINE },
      to: { path: '^src/(preload|renderer)/' },
    },
    {
      name: 'sql-only-in-store',
      severity: 'error',
      comment: 'SQL lives only in src/main/engine/store: use its repositories (Workspace).',
      from: { pathNot: `${ENGINE}store/` },
      to: { path: pkg('better-sqlite3') },
    },
    {
      name: 'preload-only-electron-shared',
      severity: 'error',
      comment: 'The preload is a sandboxed script: it may import only `electron` and src/shared.',
      from: { path: '^src/preload/' },
      to: { pathNot: [ELECTRON, '^src/(preload|shared)/'] },
    },
    {
      name: 'renderer-not-to-main',
      severity: 'error',
      comment:
        'The renderer talks to main only via window.cfstudio: no `electron`, nothing from src/main or ' +
        'src/preload; use src/shared for the types.',
      from: { path: '^src/renderer/' },
      to: { path: [ELECTRON, '^src/(main|preload)/'] },
    },
    {
      name: 'renderer-no-node-builtins',
      severity: 'error',
      comment: 'The renderer is a sandboxed web page: no Node built-ins.',
      from: { path: '^src/renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'shared-self-contained',
      severity: 'error',
      comment:
        'src/shared is loaded by main, preload and renderer alike: it imports only src/shared ' +
        '(no npm packages, no Node built-ins).',
      from: { path: '^src/shared/' },
      to: { pathNot: '^src/shared/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make load order fragile and layers meaningless: break the cycle.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import cannot be resolved to a file: a typo, a missing file or a package not installed.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'This npm package is not declared in package.json: add it (dependencies or devDependencies).',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports count: the layers hold for types too
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      extensions: ['.ts', '.mts', '.cts', '.vue', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
