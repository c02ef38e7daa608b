/**
 * Electron's security checklist as we apply it (src/main/security.ts, src/shared/csp.ts,
 * src/main/ipc/grants.ts, src/main/appProtocol.ts), tested in plain Node: the functions take
 * Electron objects only through the few methods they call, so small stand-ins for Electron's
 * Session/WebContents are enough (Electron itself cannot run here; the whole shell is loaded
 * against a fake Electron in test/integration/electron-shell.test.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Session, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { APP_PAGE_URL, appProtocolHandler, resolveAppPath } from '../../src/main/appProtocol';
import { PathGrants } from '../../src/main/ipc/grants';
import {
  guardWebContents,
  hardenSession,
  isAppPageUrl,
  isLoopbackHttpUrl,
  type RendererSource,
} from '../../src/main/security';
import { contentSecurityPolicy } from '../../src/shared/csp';
import { UserError } from '../../src/main/engine/util/errors';

const page = path.join(os.tmpdir(), 'cfs-app', 'out', 'renderer', 'index.html');
const appSource: RendererSource = { kind: 'app', root: path.dirname(page) };

type BeforeRequest = (d: { url: string }, cb: (r: { cancel: boolean }) => void) => void;
type HeadersReceived = (
  d: { responseHeaders?: Record<string, string[]> },
  cb: (r: { responseHeaders: Record<string, string[]> }) => void,
) => void;
type PermissionRequest = (wc: unknown, p: string, cb: (ok: boolean) => void) => void;

interface FakeSession {
  beforeRequest: BeforeRequest | null;
  headers: HeadersReceived | null;
  permission: PermissionRequest | null;
  check: (() => boolean) | null;
}

/** The four Session methods hardenSession calls, recording the handlers it installs. */
function fakeSession() {
  const s: FakeSession = { beforeRequest: null, headers: null, permission: null, check: null };
  const session = {
    webRequest: {
      onBeforeRequest: (fn: BeforeRequest) => (s.beforeRequest = fn),
      onHeadersReceived: (fn: HeadersReceived) => (s.headers = fn),
    },
    setPermissionRequestHandler: (fn: PermissionRequest) => (s.permission = fn),
    setPermissionCheckHandler: (fn: () => boolean) => (s.check = fn),
  };
  return Object.assign(s, { session: session as unknown as Session });
}

describe('the renderer’s Content-Security-Policy', () => {
  it('production: nothing by default, scripts and styles only from the app, thumbnails via cfthumb:', () => {
    const csp = contentSecurityPolicy();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("img-src 'self' data: blob: cfthumb:");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    expect(contentSecurityPolicy({ meta: true })).not.toContain('frame-ancestors');
  });
});

describe('session and navigation guards', () => {
  const allowed = (url: string) => {
    const s = fakeSession();
    hardenSession(s.session, appSource, 'csp');
    let cancel: boolean | null = null;
    const warn = console.warn;
    console.warn = () => {};
    try {
      s.beforeRequest!({ url }, (r: { cancel: boolean }) => (cancel = r.cancel));
    } finally {
      console.warn = warn;
    }
    return cancel === false;
  };

  it('no remote content: only the app’s own files, data/blob URLs and thumbnails load', () => {
    expect(allowed(APP_PAGE_URL)).toBe(true);
    expect(allowed('app://cfstudio/assets/x.js')).toBe(true);
    expect(allowed('app://other/assets/x.js')).toBe(false);
    // file:// is never loaded (the renderer comes from app://)
    expect(allowed(pathToFileURL(page).href)).toBe(false);
    expect(allowed('cfthumb://item/3?s=128')).toBe(true);
    expect(allowed('data:image/png;base64,AAAA')).toBe(true);
    expect(allowed('https://example.com/x.js')).toBe(false);
    expect(allowed('http://127.0.0.1:8080/')).toBe(false);
    expect(allowed(pathToFileURL('/etc/passwd').href)).toBe(false);
    expect(allowed(pathToFileURL(path.join(path.dirname(page), '..', 'main', 'index.js')).href)).toBe(false);
  });

  it('every response gets our CSP (replacing any other); no permission is ever granted', () => {
    const s = fakeSession();
    hardenSession(s.session, appSource, 'default-src none');
    let headers: Record<string, string[]> = {};
    s.headers!(
      { responseHeaders: { 'content-security-policy': ['*'], 'x-a': ['1'] } },
      (r) => (headers = r.responseHeaders),
    );
    expect(headers).toEqual({ 'x-a': ['1'], 'Content-Security-Policy': ['default-src none'] });
    let granted: boolean | null = null;
    s.permission!(null, 'media', (ok) => (granted = ok));
    expect(granted).toBe(false);
    expect(s.check!()).toBe(false);
  });

  it('navigation, new windows and <webview> are refused', () => {
    const handlers: Record<string, (e: { preventDefault(): void }, url?: string) => void> = {};
    let openHandler: ((d: { url: string }) => { action: string }) | null = null;
    const contents = {
      on: (name: string, fn: (e: { preventDefault(): void }, url?: string) => void) => (handlers[name] = fn),
      setWindowOpenHandler: (fn: typeof openHandler) => (openHandler = fn),
    };
    guardWebContents(contents as unknown as WebContents, appSource);
    const warn = console.warn;
    console.warn = () => {};
    try {
      let prevented = 0;
      const ev = { preventDefault: () => prevented++ };
      handlers['will-navigate'](ev, 'https://example.com');
      handlers['will-navigate'](ev, APP_PAGE_URL);
      handlers['will-attach-webview'](ev);
      expect(prevented).toBe(3);
      expect(openHandler!({ url: 'https://example.com' })).toEqual({ action: 'deny' });
    } finally {
      console.warn = warn;
    }
  });

  it('dev servers only on loopback; the app page is recognised exactly', () => {
    expect(isLoopbackHttpUrl('http://localhost:5173')).toBe(true);
    expect(isLoopbackHttpUrl('http://127.0.0.1:5173/')).toBe(true);
    expect(isLoopbackHttpUrl('http://evil.example:5173')).toBe(false);
    expect(isLoopbackHttpUrl('file:///x')).toBe(false);
    expect(isAppPageUrl(appSource, APP_PAGE_URL + '#/runs')).toBe(true);
    expect(isAppPageUrl(appSource, 'app://cfstudio/index.html.evil')).toBe(false);
    expect(isAppPageUrl(appSource, 'app://evil/index.html')).toBe(false);
    expect(isAppPageUrl(appSource, pathToFileURL(page).href)).toBe(false);
  });
});

describe('path grants (IPC paths must be ones the user picked)', () => {
  it('reads only picked paths (symlinks resolved), writes only chosen save paths', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-grants-'));
    try {
      const picked = path.join(dir, 'picked');
      fs.mkdirSync(picked);
      fs.symlinkSync(picked, path.join(dir, 'link'));
      const g = new PathGrants();
      expect(() => g.checkRead(picked, 'add')).toThrow(UserError);
      g.grantRead(path.join(dir, 'link'));
      expect(g.checkRead(picked, 'add')).toBe(fs.realpathSync(picked));
      expect(() => g.checkRead(path.join(picked, '..'), 'add')).toThrow(
        /only open folders and files you picked/,
      );
      expect(() => g.checkRead('picked', 'add')).toThrow(/not an absolute path/);
      expect(() => g.checkWrite(path.join(dir, 'out.csv'), 'export')).toThrow(/only write where you chose/);
      g.grantWrite(path.join(dir, 'out.csv'));
      expect(g.checkWrite(path.join(dir, 'out.csv'), 'export')).toBe(path.join(dir, 'out.csv'));
      // used once: writing there again needs another save dialog
      expect(() => g.checkWrite(path.join(dir, 'out.csv'), 'export')).toThrow(/only write where you chose/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the app:// scheme (the renderer build folder, nothing else)', () => {
  it('serves the folder’s files with their types and the CSP; refuses traversal, other hosts, symlinks out, other methods', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-appscheme-'));
    try {
      const root = path.join(dir, 'renderer');
      fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
      fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>x</title>');
      fs.writeFileSync(path.join(root, 'assets', 'app.js'), 'export {}');
      fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
      fs.mkdirSync(path.join(dir, 'renderer-evil'));
      fs.writeFileSync(path.join(dir, 'renderer-evil', 'x.js'), 'evil');
      fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'assets', 'link.js'));
      fs.symlinkSync(dir, path.join(root, 'up'));
      const handler = appProtocolHandler(root, "default-src 'none'");
      const fetchApp = async (url: string, method = 'GET') => {
        const r = await handler(new Request(url, { method }));
        return {
          status: r.status,
          type: r.headers.get('content-type'),
          csp: r.headers.get('content-security-policy'),
          body: await r.text(),
        };
      };
      expect(await fetchApp('app://cfstudio/index.html')).toMatchObject({
        status: 200,
        type: 'text/html; charset=utf-8',
        csp: "default-src 'none'",
      });
      expect(await fetchApp('app://cfstudio/')).toMatchObject({
        status: 200,
        type: 'text/html; charset=utf-8',
      });
      expect(await fetchApp('app://cfstudio/assets/app.js')).toMatchObject({
        status: 200,
        type: 'text/javascript; charset=utf-8',
        body: 'export {}',
        csp: null,
      });
      for (const url of [
        'app://cfstudio/../secret.txt',
        'app://cfstudio/assets/../../secret.txt',
        'app://cfstudio/%2e%2e/secret.txt',
        'app://cfstudio/%2E%2E/secret.txt',
        'app://cfstudio/..%2fsecret.txt',
        'app://cfstudio/assets%2f..%2f..%2fsecret.txt',
        'app://cfstudio/..%5csecret.txt',
        'app://cfstudio/assets/link.js',
        'app://cfstudio/up/secret.txt',
        'app://cfstudio/../renderer-evil/x.js',
        'app://cfstudio/assets',
        'app://cfstudio/assets/app.js%00.png',
        'app://cfstudio/%E0%A4%A',
        'app://other/index.html',
        'app://cfstudio:8080/index.html',
      ]) {
        const r = await fetchApp(url);
        expect(r.status, url).toBe(404);
        expect(r.body, url).not.toContain('secret');
      }
      expect((await fetchApp('app://cfstudio/index.html', 'POST')).status).toBe(405);
      expect(resolveAppPath(fs.realpathSync(root), 'file:///etc/passwd')).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
