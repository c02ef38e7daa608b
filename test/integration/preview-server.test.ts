/**
 * The browser preview's security and plumbing (src/main/preview/server.ts) over real HTTP and
 * WebSocket: the token is exchanged for an HttpOnly cookie, nothing is served without it, the
 * Host header and the socket's Origin are checked, files outside the renderer are unreachable,
 * the page carries the app's CSP, and calls over the socket reach the real handlers.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPreviewServer, type PreviewServer } from '../../src/main/preview/server';
import { repoRoot } from '../helpers/cli';

const built =
  fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html')) &&
  fs.existsSync(path.join(repoRoot, 'out', 'preload', 'previewBridge.cjs'));

function get(
  port: number,
  p: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: p, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function socket(port: number, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__preview/ws`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

describe.skipIf(!built)(
  built ? 'the browser preview server' : 'SKIPPED: the preview server needs `npm run build` first',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-preview-'));
    let server: PreviewServer;
    let cookie = '';

    beforeAll(async () => {
      server = await startPreviewServer({
        workspaceFile: path.join(dir, 'ws.cfstudio'),
        outDir: path.join(repoRoot, 'out'),
        log: () => {},
      });
    });
    afterAll(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('listens on loopback and trades the start token for an HttpOnly cookie', async () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[a-f0-9]{48}$/);
      const token = new URL(server.url).searchParams.get('token')!;
      const r = await get(server.port, `/?token=${token}`);
      expect(r.status).toBe(302);
      const setCookie = r.headers['set-cookie']![0];
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      cookie = setCookie.split(';')[0];
    });

    it('serves nothing without the cookie, nothing for another Host, and nothing outside the renderer', async () => {
      expect((await get(server.port, '/')).status).toBe(403);
      expect((await get(server.port, '/?token=wrong')).status).toBe(403);
      expect((await get(server.port, '/__preview/thumb/1')).status).toBe(403);
      expect((await get(server.port, '/', { cookie: `cfstudio_preview=${'0'.repeat(48)}` })).status).toBe(
        403,
      );
      expect((await get(server.port, '/', { cookie, host: `evil.example:${server.port}` })).status).toBe(421);
      for (const p of [
        '/../package.json',
        '/%2e%2e/package.json',
        '/assets/../../package.json',
        '/..%2f..%2fpackage.json',
      ])
        expect((await get(server.port, p, { cookie })).status, p).toBe(404);
    });

    it('the page has the app’s CSP (plus its own socket) and loads the bridge before the app', async () => {
      const r = await get(server.port, '/', { cookie });
      expect(r.status).toBe(200);
      const csp = r.headers['content-security-policy'] as string;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${server.port}`);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(r.body.indexOf('/__preview/bridge.js')).toBeGreaterThan(
        r.body.indexOf('Content-Security-Policy'),
      );
      expect(r.body.indexOf('/__preview/bridge.js')).toBeLessThan(r.body.indexOf('type="module"'));
      const bridge = await get(server.port, '/__preview/bridge.js', { cookie });
      expect(bridge.body).toContain('cfstudio');
    });

    it('the socket refuses other origins and missing cookies; calls reach the real handlers', async () => {
      const origin = `http://127.0.0.1:${server.port}`;
      await expect(socket(server.port, { origin: 'http://evil.example', cookie })).rejects.toThrow(/403/);
      await expect(socket(server.port, { origin })).rejects.toThrow(/403/);
      const ws = await socket(server.port, { origin, cookie });
      const call = (id: number, channel: string, args: unknown[]) =>
        new Promise<{ id: number; ok: boolean; result?: unknown; error?: { message: string } }>((resolve) => {
          const onMsg = (d: Buffer) => {
            const m = JSON.parse(String(d));
            if (m.id === id) {
              ws.off('message', onMsg);
              resolve(m);
            }
          };
          ws.on('message', onMsg);
          ws.send(JSON.stringify({ id, channel, args }));
        });
      const info = await call(1, 'app:info', []);
      expect(info).toMatchObject({
        ok: true,
        result: { shell: 'preview', workspace: path.join(dir, 'ws.cfstudio') },
      });
      const bad = await call(2, 'datasets:add', [{ path: '/etc' }]);
      expect(bad.ok).toBe(false);
      expect(bad.error!.message).toMatch(/only open folders and files you picked/);
      // a typed path (the preview's stand-in for a dialog) is granted like a picked one
      expect(await call(3, 'preview:typedPath', [{ path: 'relative/path' }])).toMatchObject({ ok: false });
      expect(await call(4, 'preview:typedPath', [{ path: dir }])).toMatchObject({ ok: true, result: dir });
      ws.close();
    });
  },
);
