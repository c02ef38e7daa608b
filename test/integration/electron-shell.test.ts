/**
 * The Electron shell, run without the Electron binary: src/main/index.ts, src/main/ipc/index.ts and
 * src/preload/index.ts loaded as they are, against a small fake of the Electron APIs they use
 * (test/helpers/fakeElectron.ts), with the real handlers, engine and SQLite workspace behind
 * them. Checks the contract the binary would enforce nothing of:
 * - the window: sandboxed, context-isolated, loads app://cfstudio/index.html (not file://), the
 *   app:// and cfthumb: schemes registered as privileged before 'ready', served after;
 * - channel allow-listing: main handles exactly the contract's channels; the preload exposes one
 *   named function per channel (no pass-through), each calling only its own channel;
 * - sender checks: calls from a subframe, or from the main frame once it shows another page, are
 *   refused;
 * - the drop grant: a dropped File's path is granted for reading, a path made up in JS is not;
 * - `cfthumb:` serves items of registered datasets and refuses a file that became a symlink
 *   out of the dataset folder;
 * - the navigation, new-window, <webview> and permission guards; the request filter and CSP.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ARG_SCHEMAS } from '../../src/main/ipc/schemas';
import { apiFromBridge, bridgeName, INVOKE_CHANNELS, type CfStudioBridge } from '../../src/shared/bridge';
import type { ApiError, CfStudioApi, DatasetDetail, JobEvent } from '../../src/shared/ipc';
import { fake, FakeWebContents } from '../helpers/fakeElectron';

vi.mock('electron', async () => (await import('../helpers/fakeElectron')).electronModule);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-shell-'));
const photos = path.join(dir, 'photos');
const outside = path.join(dir, 'outside.png');

async function png(file: string, rgb: [number, number, number]): Promise<void> {
  await sharp({
    create: { width: 24, height: 16, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } },
  })
    .png()
    .toFile(file);
}

async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return (e as { apiError: ApiError }).apiError;
  }
  throw new Error('expected the call to fail');
}

const tick = () => new Promise((r) => setImmediate(r));

describe('the Electron shell against a fake Electron', () => {
  let bridge: CfStudioBridge;
  let api: CfStudioApi;
  const events: JobEvent[] = [];

  beforeAll(async () => {
    fs.mkdirSync(photos);
    await png(path.join(photos, 'a.png'), [200, 30, 30]);
    await png(path.join(photos, 'b.png'), [30, 200, 30]);
    await png(outside, [30, 30, 200]);
    vi.stubEnv('CFSTUDIO_WORKSPACE', path.join(dir, 'ws.cfstudio'));
    vi.stubEnv('ELECTRON_RENDERER_URL', '');
    await import('../../src/main/index');
    // before 'ready': nothing may be served yet, the schemes must be privileged already
    expect(fake.protocol.handlers.size).toBe(0);
    fake.makeReady();
    await tick();
    await import('../../src/preload/index');
    bridge = fake.exposed.cfstudioBridge as CfStudioBridge;
    api = apiFromBridge(bridge);
    api.onJobEvent((e) => events.push(e));
  });

  afterAll(async () => {
    fake.app.emit('before-quit');
    await new Promise((r) => setTimeout(r, 200));
    vi.unstubAllEnvs();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('opens one sandboxed, context-isolated window on app://cfstudio/index.html', () => {
    expect(fake.log.slice(0, 3)).toEqual([
      'app.enableSandbox',
      'protocol.registerSchemesAsPrivileged app,cfthumb',
      'app ready',
    ]);
    expect(fake.protocol.privileged).toEqual([
      {
        scheme: 'app',
        privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
      },
      { scheme: 'cfthumb', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
    expect([...fake.protocol.handlers.keys()].sort()).toEqual(['app', 'cfthumb']);
    const windows = fake.BrowserWindow.getAllWindows();
    expect(windows).toHaveLength(1);
    expect(windows[0].loaded).toEqual(['app://cfstudio/index.html']);
    expect(windows[0].options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
      preload: expect.stringMatching(/[/\\]preload[/\\]index\.cjs$/),
    });
  });

  it('serves the renderer on app:// only from its folder', async () => {
    const serve = fake.protocol.handlers.get('app')!;
    const index = await serve(new Request('app://cfstudio/index.html'));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'none'");
    for (const url of [
      'app://cfstudio/../main/index.ts',
      'app://cfstudio/%2e%2e/main/index.ts',
      'app://cfstudio/..%2fmain%2findex.ts',
      'app://evil/index.html',
    ])
      expect((await serve(new Request(url))).status, url).toBe(404);
  });

  it('main handles exactly the contract’s channels; the preload exposes one named function per channel', async () => {
    expect([...fake.ipcMain.handlers.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect(Object.keys(ARG_SCHEMAS).sort()).toEqual([...INVOKE_CHANNELS].sort());
    expect([...fake.ipcMain.listeners.keys()]).toEqual(['dialog:dropped']);
    expect(Object.keys(fake.exposed)).toEqual(['cfstudioBridge']);
    expect(Object.keys(bridge).sort()).toEqual(
      [...INVOKE_CHANNELS.map(bridgeName), 'onJobEvent', 'thumbnailUrl', 'pathForDroppedFile'].sort(),
    );
    // no pass-through: whatever it is given, each function calls its own channel and no other
    for (const channel of INVOKE_CHANNELS) {
      fake.ipcRenderer.invoked.length = 0;
      const fn = (bridge as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[
        bridgeName(channel)
      ];
      await fn('runs:remove', { id: 1 }).catch(() => null);
      expect(fake.ipcRenderer.invoked, channel).toEqual([channel]);
    }
    // the renderer's invoke knows only the contract's channels: nothing else reaches IPC
    fake.ipcRenderer.invoked.length = 0;
    const unknown = await apiError(
      (api.invoke as (c: string, ...a: unknown[]) => Promise<unknown>)('shell:openExternal', 'https://x'),
    );
    expect(unknown.message).toMatch(/unknown IPC channel "shell:openExternal"/);
    expect(fake.ipcRenderer.invoked).toEqual([]);
    // a validated call through the whole chain: bridge → ipcMain → handlers → back
    expect(await api.invoke('app:info')).toMatchObject({
      shell: 'electron',
      workspace: path.join(dir, 'ws.cfstudio'),
    });
    expect((await apiError(api.invoke('datasets:get', { id: -1 } as never))).message).toMatch(
      /invalid arguments/,
    );
  });

  it('refuses calls from a subframe, or from the main frame showing another page', async () => {
    const win = fake.window();
    try {
      fake.state.senderFrame = { url: 'app://cfstudio/index.html' };
      expect((await apiError(api.invoke('datasets:list'))).message).toMatch(/untrusted sender/);
      fake.state.senderFrame = null;
      win.webContents.mainFrame.url = 'https://evil.example/';
      expect((await apiError(api.invoke('datasets:list'))).message).toMatch(/untrusted sender/);
      win.webContents.mainFrame.url = 'app://cfstudio/index.html.evil';
      expect((await apiError(api.invoke('datasets:list'))).message).toMatch(/untrusted sender/);
      // a drop reported by an untrusted frame grants nothing
      fake.state.senderFrame = { url: 'app://cfstudio/index.html' };
      expect(bridge.pathForDroppedFile(fake.dropFile(photos))).toBe(photos);
      fake.state.senderFrame = null;
      win.webContents.mainFrame.url = 'app://cfstudio/index.html';
      expect((await apiError(api.invoke('datasets:add', { path: photos }))).message).toMatch(
        /only open folders and files you picked or dropped/,
      );
    } finally {
      fake.state.senderFrame = null;
      win.webContents.mainFrame.url = 'app://cfstudio/index.html';
    }
    expect(await api.invoke('datasets:list')).toEqual([]);
  });

  it('a dropped File’s path is granted for reading; a path made up in JS is not', async () => {
    // a File made in the page has no path: nothing is granted
    const madeUp = new File([], '/etc');
    expect(bridge.pathForDroppedFile(madeUp)).toBeNull();
    expect((await apiError(api.invoke('datasets:add', { path: '/etc' }))).message).toMatch(
      /only open folders/,
    );
    expect((await apiError(api.invoke('datasets:add', { path: photos }))).message).toMatch(
      /only open folders/,
    );
    // the real drop
    expect(bridge.pathForDroppedFile(fake.dropFile(photos))).toBe(photos);
    const { jobId } = await api.invoke('datasets:add', { path: photos, name: 'photos' });
    await expect
      .poll(() => events.find((e) => e.jobId === jobId && e.type !== 'progress')?.type, { timeout: 60_000 })
      .toBe('done');
    const done = events.find((e) => e.jobId === jobId && e.type === 'done')!;
    const dataset = (done as { result: { dataset: DatasetDetail } }).result.dataset;
    expect(dataset).toMatchObject({ name: 'photos', ok: 2 });
    // job events went to the window's page on the job channel
    expect(fake.window().webContents.sent.every((s) => s.channel === 'jobs:event')).toBe(true);
  });

  it('cfthumb: serves registered items and refuses one whose file became a symlink out of its folder', async () => {
    const [dataset] = await api.invoke('datasets:list');
    const page = await api.invoke('datasets:items', { id: dataset.id, offset: 0, limit: 10 });
    const byName = Object.fromEntries(page.items.map((i) => [i.relPath, i.id]));
    const thumb = fake.protocol.handlers.get('cfthumb')!;
    expect(bridge.thumbnailUrl(byName['a.png'], 64)).toBe(`cfthumb://item/${byName['a.png']}?s=64`);
    const ok = await thumb(new Request(bridge.thumbnailUrl(byName['a.png'], 64)));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await ok.arrayBuffer())).metadata()).format).toBe('jpeg');
    // b.png is now a link to a file outside the dataset folder
    fs.rmSync(path.join(photos, 'b.png'));
    fs.symlinkSync(outside, path.join(photos, 'b.png'));
    const refused = await thumb(new Request(bridge.thumbnailUrl(byName['b.png'], 64)));
    expect(refused.status).toBe(404);
    expect(await refused.text()).toMatch(/resolves outside its dataset folder/);
    for (const url of ['cfthumb://item/999999?s=64', 'cfthumb://item/../../etc/passwd', 'cfthumb://other/1'])
      expect((await thumb(new Request(url))).status, url).toBe(404);
  });

  it('guards every WebContents: no navigation, no new window, no <webview>; no permission; only the app’s requests', () => {
    const contents = new FakeWebContents();
    fake.app.emit('web-contents-created', {}, contents);
    const warn = console.warn;
    console.warn = () => {};
    try {
      let prevented = 0;
      const ev = { preventDefault: () => void prevented++ };
      for (const url of ['https://example.com/', 'file:///etc/passwd', 'app://cfstudio/index.html'])
        contents.emit('will-navigate', ev, url);
      contents.emit('will-attach-webview', ev, {}, {});
      expect(prevented).toBe(4);
      expect(contents.openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
      expect(contents.openHandler!({ url: 'app://cfstudio/index.html' })).toEqual({ action: 'deny' });

      const s = fake.session.defaultSession;
      let granted: boolean | null = null;
      for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read']) {
        s.permissionRequest!(contents, permission, (ok) => (granted = ok));
        expect(granted, permission).toBe(false);
      }
      expect(s.permissionCheck!(contents, 'media')).toBe(false);
      const cancelled = (url: string) => {
        let c: boolean | null = null;
        s.beforeRequest!({ url }, (r) => (c = r.cancel));
        return c;
      };
      expect(cancelled('app://cfstudio/assets/index.js')).toBe(false);
      expect(cancelled('cfthumb://item/1?s=64')).toBe(false);
      for (const url of [
        'https://example.com/x.js',
        'http://127.0.0.1:5173/',
        'file:///etc/passwd',
        'app://evil/x.js',
      ])
        expect(cancelled(url), url).toBe(true);
      let headers: Record<string, string[]> = {};
      s.headersReceived!(
        { responseHeaders: { 'Content-Security-Policy': ['*'] } },
        (r) => (headers = r.responseHeaders),
      );
      expect(headers['Content-Security-Policy'][0]).toContain("default-src 'none'");
      expect(Object.keys(headers)).toEqual(['Content-Security-Policy']);
    } finally {
      console.warn = warn;
    }
  });

  it('dialogs grant what the user picked: a folder to read, a save path to write once', async () => {
    fake.dialog.answers.push(photos);
    expect(await api.invoke('dialog:pickFolder', { title: 'Inliers' })).toBe(photos);
    fake.dialog.answers.push(null);
    expect(await api.invoke('dialog:pickSavePath', { title: 'Export', defaultName: 'x.csv' })).toBeNull();
    expect(fake.log).toContain('dialog.showOpenDialog openDirectory');
  });
});
