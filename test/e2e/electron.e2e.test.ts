/**
 * The real desktop window through Playwright's Electron support: launches out/main/index.js in
 * Electron, checks the window, the sandboxed bridge (`window.cfstudio` and nothing of Node), and
 * that the main-process handlers answer. Runs only where Electron's binary is installed (it
 * cannot be downloaded on the CI machine) and says so when skipped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli';

function electronBinary(): string | null {
  if (process.env.ELECTRON_EXEC_PATH)
    return fs.existsSync(process.env.ELECTRON_EXEC_PATH) ? process.env.ELECTRON_EXEC_PATH : null;
  const dir = path.join(repoRoot, 'node_modules', 'electron');
  const pathTxt = path.join(dir, 'path.txt');
  if (!fs.existsSync(pathTxt)) return null;
  const exe = path.join(dir, 'dist', fs.readFileSync(pathTxt, 'utf8').trim());
  return fs.existsSync(exe) ? exe : null;
}

const exe = electronBinary();
const binding = process.env.CFSTUDIO_SQLITE_BINDING;
const skip = !exe
  ? 'the Electron binary is not installed here (node node_modules/electron/install.js needs internet)'
  : !binding
    ? 'better-sqlite3 has no build for Electron’s ABI (npm start builds one and sets CFSTUDIO_SQLITE_BINDING)'
    : null;

describe.skipIf(skip !== null)(skip ? `SKIPPED: Electron end-to-end: ${skip}` : 'the Electron window', () => {
  it('opens the window with the sandboxed bridge and a working main process', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-electron-'));
    const app = await electron.launch({
      executablePath: exe!,
      args: [path.join(repoRoot, 'out', 'main', 'index.js')],
      env: { ...process.env, CFSTUDIO_WORKSPACE: path.join(dir, 'ws.cfstudio') } as Record<string, string>,
    });
    try {
      const win = await app.firstWindow();
      expect(await win.title()).toBe('CF Studio');
      const probe = await win.evaluate(async () => ({
        node: typeof (globalThis as { process?: unknown }).process,
        require: typeof (globalThis as { require?: unknown }).require,
        // the preload's named functions (src/shared/bridge.ts): no channel pass-through
        info: await (
          window as unknown as { cfstudioBridge: { appInfo(): Promise<unknown> } }
        ).cfstudioBridge.appInfo(),
        passThrough: typeof (window as unknown as { cfstudio?: unknown }).cfstudio,
      }));
      expect(probe.node).toBe('undefined');
      expect(probe.require).toBe('undefined');
      expect(probe.passThrough).toBe('undefined');
      expect(probe.info).toMatchObject({ shell: 'electron', workspace: path.join(dir, 'ws.cfstudio') });
    } finally {
      await app.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
