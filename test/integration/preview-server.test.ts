/**
 * The browser preview's security and plumbing (src/main/preview/server.ts) over real HTTP and
 * WebSocket, and in Debian's Chromium where a browser's own rules matter:
 * - the start token is exchanged once for an HttpOnly session cookie and is dead afterwards;
 *   nothing is served without the cookie, for another Host, or outside the renderer; the page
 *   carries the app's CSP; socket calls reach the real handlers;
 * - the CSRF, re-tried: `text/plain` (and every other request a page on another
 *   127.0.0.1 port can make with the cookie) is refused, nothing is queued, nothing overwritten;
 *   only the page's own same-origin JSON with the preview header queues a dialog answer;
 * - the 200 MB body: 413 without reading it, memory flat;
 * - typed paths (granted without a dialog) exist only when the preview is started with the opt-in.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY, NO_DIALOG, startPreviewServer, type PreviewServer } from '../../src/main/preview/server';
import { repoRoot } from '../helpers/cli';

const built =
  fs.existsSync(path.join(repoRoot, 'out', 'renderer', 'index.html')) &&
  fs.existsSync(path.join(repoRoot, 'out', 'preload', 'previewBridge.cjs'));
const CHROMIUM = process.env.CFSTUDIO_CHROMIUM ?? '/usr/bin/chromium';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request as curl would send it; `body` of `{ bytes }` streams that many bytes (chunked). */
function request(
  port: number,
  method: string,
  p: string,
  headers: Record<string, string> = {},
  body?: string | { bytes: number },
): Promise<Reply | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path: p, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', (e) => resolve({ error: e.message }));
      },
    );
    req.on('error', (e) => resolve({ error: e.message }));
    if (body === undefined) req.end();
    else if (typeof body === 'string') req.end(body);
    else {
      // one 1 MB buffer, sent again and again: the client holds no more than that
      const mb = Buffer.alloc(1 << 20, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < body.bytes && !req.destroyed) {
          sent += mb.length;
          if (!req.write(mb)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    }
  });
}

const get = (port: number, p: string, headers: Record<string, string> = {}) =>
  request(port, 'GET', p, headers) as Promise<Reply>;

function socket(port: number, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/__preview/ws`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

type Call = (
  channel: string,
  args: unknown[],
) => Promise<{ ok: boolean; result?: unknown; error?: { message: string; hint: string | null } }>;

/** Calls over the preview socket, as the bridge makes them. */
function caller(ws: WebSocket): Call {
  let next = 1;
  return (channel, args) =>
    new Promise((resolve) => {
      const id = next++;
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
}

/** Starts a preview and signs in like the browser does; returns the session cookie. */
async function signedIn(
  dir: string,
  opts: { allowTypedPaths?: boolean } = {},
): Promise<{ server: PreviewServer; cookie: string; origin: string }> {
  const server = await startPreviewServer({
    workspaceFile: path.join(dir, 'ws.cfstudio'),
    outDir: path.join(repoRoot, 'out'),
    log: () => {},
    ...opts,
  });
  const token = new URL(server.url).searchParams.get('token')!;
  const r = await get(server.port, `/?token=${token}`);
  return {
    server,
    cookie: String(r.headers['set-cookie']?.[0] ?? '').split(';')[0],
    origin: `http://127.0.0.1:${server.port}`,
  };
}

describe.skipIf(!built)(
  built ? 'the browser preview server' : 'SKIPPED: the preview server needs `npm run build` first',
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-preview-'));
    let server: PreviewServer;
    let cookie = '';
    let origin = '';
    let token = '';
    const victim = path.join(dir, 'victim.txt');

    beforeAll(async () => {
      fs.writeFileSync(victim, 'precious');
      server = await startPreviewServer({
        workspaceFile: path.join(dir, 'ws.cfstudio'),
        outDir: path.join(repoRoot, 'out'),
        log: () => {},
        // the worst case: the opt-in that makes the dialog queue exist
        allowTypedPaths: true,
      });
      origin = `http://127.0.0.1:${server.port}`;
    });
    afterAll(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('listens on loopback and trades the start token, once, for an HttpOnly session cookie', async () => {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[a-f0-9]{48}$/);
      token = new URL(server.url).searchParams.get('token')!;
      const r = await get(server.port, `/?token=${token}`);
      expect(r.status).toBe(302);
      const setCookie = r.headers['set-cookie']![0];
      expect(setCookie).toMatch(/HttpOnly/);
      expect(setCookie).toMatch(/SameSite=Strict/);
      cookie = setCookie.split(';')[0];
      // the cookie is a session of its own, not the token
      expect(cookie).not.toContain(token);
      // the token is dead now: in the URL, as a cookie, as a header
      const again = await get(server.port, `/?token=${token}`);
      expect(again.status).toBe(403);
      expect(again.body).toMatch(/used already/);
      expect(again.headers['set-cookie']).toBeUndefined();
      expect((await get(server.port, '/', { cookie: `cfstudio_preview=${token}` })).status).toBe(403);
      expect((await get(server.port, '/', { 'x-cfstudio-token': token })).status).toBe(403);
      expect((await get(server.port, '/', { cookie })).status).toBe(200);
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
      expect(bridge.body).toContain('cfstudioBridge');
    });

    it('the socket refuses other origins and missing cookies; calls reach the real handlers', async () => {
      await expect(socket(server.port, { origin: 'http://evil.example', cookie })).rejects.toThrow(/403/);
      await expect(socket(server.port, { origin: 'http://127.0.0.1:8000', cookie })).rejects.toThrow(/403/);
      await expect(socket(server.port, { origin })).rejects.toThrow(/403/);
      const ws = await socket(server.port, { origin, cookie });
      const call = caller(ws);
      expect(await call('app:info', [])).toMatchObject({
        ok: true,
        result: { shell: 'preview', workspace: path.join(dir, 'ws.cfstudio') },
      });
      const bad = await call('datasets:add', [{ path: '/etc' }]);
      expect(bad.ok).toBe(false);
      expect(bad.error!.message).toMatch(/only open folders and files you picked/);
      // with the opt-in, a typed path (the preview's stand-in for a dialog) is granted like a picked one
      expect(await call('preview:typedPath', [{ path: 'relative/path' }])).toMatchObject({ ok: false });
      expect(await call('preview:typedPath', [{ path: dir }])).toMatchObject({ ok: true, result: dir });
      ws.close();
    });

    it('the issue’s CSRF: requests a page on another 127.0.0.1 port can send with the cookie are refused; nothing is queued or overwritten', async () => {
      const body = JSON.stringify({ answers: [victim] });
      const post = (headers: Record<string, string>) =>
        request(server.port, 'POST', '/__preview/dialog', { cookie, ...headers }, body) as Promise<Reply>;
      // the probe: curl with the cookie, Origin: http://127.0.0.1:8000, Content-Type: text/plain
      const csrf = await post({ origin: 'http://127.0.0.1:8000', 'content-type': 'text/plain' });
      expect(csrf.status).toBe(403);
      // each rule on its own
      const json = 'application/json';
      expect(
        (await post({ origin: 'http://127.0.0.1:8000', 'content-type': json, 'x-cfstudio-preview': '1' }))
          .status,
      ).toBe(403);
      expect((await post({ 'content-type': json, 'x-cfstudio-preview': '1' })).status).toBe(403);
      expect((await post({ origin, 'content-type': json })).status).toBe(403);
      expect((await post({ origin, 'content-type': 'text/plain', 'x-cfstudio-preview': '1' })).status).toBe(
        415,
      );
      expect(
        (
          await post({
            origin,
            'content-type': 'application/x-www-form-urlencoded',
            'x-cfstudio-preview': '1',
          })
        ).status,
      ).toBe(415);
      expect(server.queuedAnswers()).toEqual([]);
      // so the next save dialog does not answer the attacker's path, and the victim cannot be written
      const ws = await socket(server.port, { origin, cookie });
      const call = caller(ws);
      const save = await call('dialog:pickSavePath', [{ title: 'Export', defaultName: 'x.cfdet' }]);
      expect(save.ok).toBe(false);
      expect(save.error!.message).toMatch(/cannot open native file dialogs/);
      const write = await call('runs:export', [{ runId: 1, format: 'cfdet', path: victim }]);
      expect(write.ok).toBe(false);
      expect(write.error!.message).toMatch(/only write where you chose/);
      ws.close();
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
      // the page's own request (same origin, JSON, the header) is the one that queues
      const own = await post({
        origin,
        'content-type': 'application/json; charset=utf-8',
        'x-cfstudio-preview': '1',
      });
      expect(own.status).toBe(200);
      expect(server.queuedAnswers()).toEqual([victim]);
      server.queueDialogAnswer(null);
      const ws2 = await socket(server.port, { origin, cookie });
      const call2 = caller(ws2);
      expect(await call2('dialog:pickFolder', [{ title: 'x' }])).toMatchObject({ ok: true, result: victim });
      expect(await call2('dialog:pickFolder', [{ title: 'x' }])).toMatchObject({ ok: true, result: null });
      ws2.close();
      // answers must be absolute paths or null, at most 16
      for (const bad of [
        { answers: ['relative'] },
        { answers: new Array(17).fill(null) },
        { answers: 'x' },
        5,
      ])
        expect(
          (
            (await request(
              server.port,
              'POST',
              '/__preview/dialog',
              { cookie, origin, 'content-type': json, 'x-cfstudio-preview': '1' },
              JSON.stringify(bad),
            )) as Reply
          ).status,
        ).toBe(400);
      expect(server.queuedAnswers()).toEqual([]);
    });

    it('the issue’s 200 MB body: refused with 413 without being read; memory stays flat', async () => {
      const headers = { cookie, origin, 'content-type': 'application/json', 'x-cfstudio-preview': '1' };
      const declared = 200 * 1024 * 1024;
      global.gc?.();
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      // declared length (curl --data-binary @big.json): answered from the headers
      const withLength = (await request(
        server.port,
        'POST',
        '/__preview/dialog',
        { ...headers, 'content-length': String(declared), expect: '100-continue' },
        { bytes: declared },
      )) as Reply;
      expect(withLength.status).toBe(413);
      // no length (chunked): refused at MAX_BODY, the connection closed; the client may see the
      // 413 or a reset, depending on how much it had in flight
      const chunked = await request(server.port, 'POST', '/__preview/dialog', headers, { bytes: declared });
      if ('status' in chunked) expect(chunked.status).toBe(413);
      else expect(chunked.error).toMatch(/EPIPE|ECONNRESET|socket hang up/);
      expect(performance.now() - t0).toBeLessThan(10_000);
      global.gc?.();
      const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
      expect(grew, `rss grew ${grew.toFixed(0)} MB`).toBeLessThan(60);
      expect(server.queuedAnswers()).toEqual([]);
      // just under the cap is fine
      const small = (await request(
        server.port,
        'POST',
        '/__preview/dialog',
        headers,
        JSON.stringify({ answers: [null], pad: 'x'.repeat(MAX_BODY - 100) }),
      )) as Reply;
      expect(small.status).toBe(200);
      expect(server.queuedAnswers()).toEqual([null]);
      server.queuedAnswers();
      // the server is still serving
      expect((await get(server.port, '/', { cookie })).status).toBe(200);
    });
  },
);

describe.skipIf(!built)('the browser preview without the typed-paths opt-in', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-preview-off-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('grants no typed path and queues no answer; dialogs say how to opt in', async () => {
    const { server, cookie, origin } = await signedIn(dir);
    try {
      const queued = (await request(
        server.port,
        'POST',
        '/__preview/dialog',
        { cookie, origin, 'content-type': 'application/json', 'x-cfstudio-preview': '1' },
        JSON.stringify({ answers: [dir] }),
      )) as Reply;
      expect(queued.status).toBe(403);
      expect(queued.body).toMatch(/--allow-typed-paths/);
      expect(server.queuedAnswers()).toEqual([]);
      const ws = await socket(server.port, { origin, cookie });
      const call = caller(ws);
      const typed = await call('preview:typedPath', [{ path: dir }]);
      expect(typed).toMatchObject({ ok: false, error: { message: 'preview: typed paths are off' } });
      expect((await call('datasets:add', [{ path: dir }])).error!.message).toMatch(/only open folders/);
      const pick = await call('dialog:pickFolder', [{ title: 'Inliers' }]);
      expect(pick.ok).toBe(false);
      // not the text the bridge answers with a prompt: the page does not ask for a typed path
      expect(pick.error!.message).not.toBe(NO_DIALOG);
      expect(pick.error!.message).toMatch(/typed paths are off/);
      expect(pick.error!.hint).toMatch(/--allow-typed-paths/);
      ws.close();
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!built || !fs.existsSync(CHROMIUM))(
  fs.existsSync(CHROMIUM) ? 'the preview’s dialog queue in Chromium' : `SKIPPED: no Chromium at ${CHROMIUM}`,
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-preview-browser-'));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('a page on another 127.0.0.1 port cannot queue an answer (form, no-cors, CORS); the preview page can', async () => {
      const server = await startPreviewServer({
        workspaceFile: path.join(dir, 'ws.cfstudio'),
        outDir: path.join(repoRoot, 'out'),
        log: () => {},
        allowTypedPaths: true,
      });
      const target = `http://127.0.0.1:${server.port}/__preview/dialog`;
      const victim = path.join(dir, 'victim.cfdet');
      const payload = JSON.stringify({ answers: [victim] });
      // the attacker's page: same site (127.0.0.1), another origin (port)
      const evil = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><body>
          <form id="f" method="POST" action="${target}" enctype="text/plain">
            <input name='{"answers":["${victim}"],"x":"' value='"}'></form>
          <script>
            window.attack = async () => {
              const body = ${JSON.stringify(payload)};
              await fetch(${JSON.stringify(target)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
                headers: { 'content-type': 'text/plain' }, body }).catch(() => {});
              await fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include',
                headers: { 'content-type': 'application/json', 'x-cfstudio-preview': '1' }, body })
                .catch(() => {});
              document.getElementById('f').submit();
            };
          </script></body>`);
      });
      await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
      const evilPort = (evil.address() as { port: number }).port;
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu'],
      });
      try {
        const context = await browser.newContext();
        const page = await context.newPage();
        await page.goto(server.url);
        // signed in: the session cookie is the browser's for 127.0.0.1 (any port)
        expect((await context.cookies(`http://127.0.0.1:${evilPort}/`)).map((c) => c.name)).toContain(
          'cfstudio_preview',
        );
        const attacker = await context.newPage();
        const seen: { method: string; status: number }[] = [];
        attacker.on('response', (r) => {
          if (r.url() === target) seen.push({ method: r.request().method(), status: r.status() });
        });
        await attacker.goto(`http://127.0.0.1:${evilPort}/`);
        await Promise.all([
          attacker.waitForURL(target),
          attacker.evaluate(() => (window as unknown as { attack(): Promise<void> }).attack()),
        ]);
        // the no-cors POST and the form POST reached the server and were refused; the JSON one
        // never left the browser (its preflight was not granted)
        expect(seen.filter((s) => s.method === 'POST').map((s) => s.status)).toEqual([403, 403]);
        expect(server.queuedAnswers()).toEqual([]);

        // the preview page itself: same origin, JSON, the header
        const status = await page.evaluate(
          async ({ answer }) =>
            (
              await fetch('/__preview/dialog', {
                method: 'POST',
                headers: { 'content-type': 'application/json', 'x-cfstudio-preview': '1' },
                body: JSON.stringify({ answers: [answer] }),
              })
            ).status,
          { answer: dir },
        );
        expect(status).toBe(200);
        // and the bridge's named function answers from the queue
        const picked = await page.evaluate(() =>
          (
            window as unknown as {
              cfstudioBridge: { dialogPickFolder(a: { title: string }): Promise<unknown> };
            }
          ).cfstudioBridge.dialogPickFolder({ title: 'Inliers' }),
        );
        expect(picked).toBe(dir);
        // with the opt-in and an empty queue, the bridge asks for a typed path
        const pickFolder = (p: typeof page) =>
          p.evaluate(() =>
            (
              window as unknown as {
                cfstudioBridge: { dialogPickFolder(a: { title: string }): Promise<unknown> };
              }
            ).cfstudioBridge
              .dialogPickFolder({ title: 'Inliers' })
              .catch((e: Error) => `rejected: ${e.message}`),
          );
        const prompts: string[] = [];
        page.on('dialog', (d) => {
          prompts.push(d.type());
          void d.accept(dir);
        });
        expect(await pickFolder(page)).toBe(dir);
        expect(prompts).toEqual(['prompt']);

        // without the opt-in: no prompt, a refusal that says how to opt in
        const off = await startPreviewServer({
          workspaceFile: path.join(dir, 'off.cfstudio'),
          outDir: path.join(repoRoot, 'out'),
          log: () => {},
        });
        try {
          const offPage = await (await browser.newContext()).newPage();
          const offPrompts: string[] = [];
          offPage.on('dialog', (d) => {
            offPrompts.push(d.type());
            void d.dismiss();
          });
          await offPage.goto(off.url);
          expect(await pickFolder(offPage)).toMatch(/^rejected: .*typed paths are off/);
          expect(offPrompts).toEqual([]);
        } finally {
          await off.close();
        }
      } finally {
        await browser.close();
        await new Promise((r) => evil.close(r));
        await server.close();
      }
    }, 120_000);
  },
);
