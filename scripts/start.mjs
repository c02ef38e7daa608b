#!/usr/bin/env node
/**
 * `npm start` (the README's "install and start" target):
 *   1. electron-vite build  → out/main, out/preload, out/renderer
 *   2. if Electron's binary is installed: build better-sqlite3 for Electron's ABI with
 *      @electron/rebuild (once, kept apart from the Node build), then electron-vite preview
 *      (launches the app on the build);
 *      otherwise: say how to get it and start the browser preview (src/main/preview) instead.
 *
 * The binary is looked up the way node_modules/electron/index.js does (path.txt → dist/<exe>), but
 * without require('electron'): since Electron 45 that require() *downloads* a missing binary,
 * which needs internet and would hang or fail here.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

/** Runs a package's bin with this Node (no shell, works on Windows too). */
function runBin(pkg, binName, args) {
  const pkgJson = require.resolve(`${pkg}/package.json`);
  const { bin } = JSON.parse(readFileSync(pkgJson, 'utf8'));
  const script = join(dirname(pkgJson), typeof bin === 'string' ? bin : bin[binName]);
  const result = spawnSync(process.execPath, [script, ...args], { cwd: root, stdio: 'inherit' });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

/** Absolute path of the Electron executable if it is on disk, else null. Never downloads. */
function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH) {
    return existsSync(process.env.ELECTRON_EXEC_PATH) ? process.env.ELECTRON_EXEC_PATH : null;
  }
  let electronDir;
  try {
    electronDir = dirname(require.resolve('electron/package.json'));
  } catch {
    return null;
  }
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const exe = readFileSync(pathFile, 'utf8').trim();
  const distDir = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(electronDir, 'dist');
  const full = join(distDir, exe);
  return exe && existsSync(full) ? full : null;
}

const buildStatus = runBin('electron-vite', 'electron-vite', ['build']);
if (buildStatus !== 0) {
  console.error(`\nelectron-vite build failed (exit ${buildStatus}).`);
  process.exit(buildStatus);
}

const electron = electronBinary();
if (!electron) {
  console.log(`
CF Studio: the desktop app is built (out/), but the Electron binary is not installed on this machine,
so the window cannot be opened here.

  To install it (needs internet, once):  node node_modules/electron/install.js${nodeNote()}
  then run \`npm start\` again.

Starting the browser preview instead: the same app in your browser, served on 127.0.0.1 and
backed by the same engine and workspace (Ctrl-C stops it). A browser has no file dialogs: to
type folder and file paths instead, start it with \`npm start -- --allow-typed-paths\` (any script
of the page may then name files to read and write). The command line works too: \`npx cfstudio --help\`.
`);
  const preview = spawnSync(
    process.execPath,
    [
      join(root, 'bin', 'run-ts.mjs'),
      join(root, 'src', 'main', 'preview', 'main.ts'),
      ...process.argv.slice(2),
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
  process.exit(preview.status ?? 1);
}

// better-sqlite3 is a V8 addon: `npm ci` builds it for Node's ABI (the CLI and the tests use that
// build). Electron needs its own build; @electron/rebuild makes it in a copy of the module kept
// apart in out/native/, handed to the store through CFSTUDIO_SQLITE_BINDING, so both keep working.
// (sharp and onnxruntime-node use N-API, which is ABI-stable: no rebuild.) It runs only here, when
// Electron's binary exists: never in `npm ci` or the tests. Needs Electron's headers: internet, once.
const electronVersion = JSON.parse(readFileSync(require.resolve('electron/package.json'), 'utf8')).version;
const binding = join(root, 'out', 'native', `electron-${electronVersion}`, 'better_sqlite3.node');
if (!existsSync(binding)) {
  console.log(
    `Building better-sqlite3 for Electron ${electronVersion} with @electron/rebuild (once; needs internet for its headers)…`,
  );
  const src = dirname(require.resolve('better-sqlite3/package.json'));
  const { version } = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8'));
  const work = join(root, 'out', 'native', `build-${electronVersion}`);
  const copy = join(work, 'node_modules', 'better-sqlite3');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(copy, { recursive: true });
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({ name: 'cfstudio-native', private: true, dependencies: { 'better-sqlite3': version } }),
  );
  cpSync(src, copy, { recursive: true, filter: (f) => !f.startsWith(join(src, 'build')) });
  const { default: electronRebuild } = await import('@electron/rebuild');
  try {
    await electronRebuild.rebuild({
      buildPath: work,
      electronVersion,
      onlyModules: ['better-sqlite3'],
      force: true,
    });
  } catch (e) {
    console.error(
      `\nCould not build better-sqlite3 for Electron (${e instanceof Error ? e.message : String(e)}); it needs internet for the Electron headers and a C++ toolchain.`,
    );
    process.exit(1);
  }
  const built = join(copy, 'build', 'Release', 'better_sqlite3.node');
  if (!existsSync(built)) {
    console.error(`\n@electron/rebuild finished but ${built} is missing.`);
    process.exit(1);
  }
  mkdirSync(dirname(binding), { recursive: true });
  cpSync(built, binding);
  rmSync(work, { recursive: true, force: true });
}
process.env.CFSTUDIO_SQLITE_BINDING = binding;

process.exit(runBin('electron-vite', 'electron-vite', ['preview', '--skipBuild']));

/** Electron's installer (@electron/get) declares Node >= 22.12; say so when running an older Node. */
function nodeNote() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return '';
  return `\n  (its downloader expects Node >= 22.12; this is Node ${process.versions.node})`;
}
