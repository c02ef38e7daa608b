#!/usr/bin/env node
/**
 * `npm start` (the README's "install and start" target):
 *   1. electron-vite build  → out/main, out/preload, out/renderer
 *   2. if Electron's binary is installed: electron-vite preview (launches the app on the build)
 *      otherwise: explain how to get it, point at the CLI, exit 0.
 *
 * The binary is looked up the way node_modules/electron/index.js does (path.txt → dist/<exe>), but
 * without require('electron'): since Electron 45 that require() *downloads* a missing binary,
 * which needs internet and would hang or fail here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

The same engine is available from the command line without Electron:

  npx cfstudio --help
`);
  process.exit(0);
}

// FUTURE: once better-sqlite3 (and other native addons such as sharp / tfjs-node) are dependencies,
// they must be rebuilt for Electron's ABI right here, before launching (e.g. `npx @electron/rebuild
// -f -o better-sqlite3`), because `npm install` builds them for Node's ABI (what the CLI and vitest use).
// Keep the two builds apart (or rebuild back) so `npx cfstudio` and the tests keep working.

process.exit(runBin('electron-vite', 'electron-vite', ['preview', '--skipBuild']));

/** Electron's installer (@electron/get) declares Node >= 22.12; say so when running an older Node. */
function nodeNote() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 12)) return '';
  return `\n  (its downloader expects Node >= 22.12; this is Node ${process.versions.node})`;
}
