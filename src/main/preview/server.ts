/**
 * Browser preview of the desktop app, for development and the UI tests on machines without the
 * Electron binary: serves the built renderer (out/renderer) on 127.0.0.1 and provides the same
 * `window.cfstudio` API over a WebSocket (out/preload/previewBridge.cjs), backed by the real
 * main-process handlers (src/main/ipc/handlers.ts), the real engine and a real SQLite workspace.
 *
 * Security: loopback only; a random token in the start URL is exchanged for an HttpOnly,
 * SameSite=Strict cookie that every request and the socket must carry; the Host header must be
 * the loopback address (no DNS rebinding) and the socket's Origin the page's own. The page gets
 * the app's Content-Security-Policy (plus the socket's address in connect-src).
 *
 * The browser has no native dialogs: dialogs answer from a queue filled through
 * `queueDialogAnswer` (tests) or POST /__preview/dialog {"answers": [...]}, else they explain.
 *
 *   npm run preview -- [--workspace FILE] [--port N]
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { contentSecurityPolicy } from '../../shared/csp';
import type { JobEvent } from '../../shared/ipc';
import { UserError } from '../engine/util/errors';
import { StudioHandlers } from '../ipc/handlers';
import { toApiError } from '../ipc/jobs';

export interface PreviewOptions {
  workspaceFile: string;
  /** the electron-vite build output (out/) */
  outDir: string;
  /** 0 = any free port */
  port?: number;
  log?: (msg: string) => void;
}

export interface PreviewServer {
  /** open this URL (it carries the one-time token) */
  url: string;
  port: number;
  /** the next dialog (folder/file/save) answers this path, or cancels with null */
  queueDialogAnswer(answer: string | null): void;
  close(): Promise<void>;
}

const COOKIE = 'cfstudio_preview';
/** The message the bridge recognizes to fall back to a typed path (keep in sync with previewBridge.ts). */
export const NO_DIALOG = 'the browser preview cannot open native file dialogs';
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};
const CSP_META = /(<meta\s+http-equiv="Content-Security-Policy"\s+content=")[^"]*(")/i;

function cookieOf(req: http.IncomingMessage): string | null {
  const m = /(?:^|;\s*)cfstudio_preview=([a-f0-9]+)/.exec(req.headers.cookie ?? '');
  return m ? m[1] : null;
}

export async function startPreviewServer(o: PreviewOptions): Promise<PreviewServer> {
  const log = o.log ?? ((m: string) => console.error(m));
  const rendererDir = path.resolve(o.outDir, 'renderer');
  const bridgeFile = path.resolve(o.outDir, 'preload', 'previewBridge.cjs');
  for (const f of [path.join(rendererDir, 'index.html'), bridgeFile])
    if (!fs.existsSync(f))
      throw new UserError(
        `the preview needs the built app: ${f} is missing`,
        'build it first: npm run build',
      );

  const token = randomBytes(24).toString('hex');
  const sockets = new Set<WebSocket>();
  const dialogAnswers: (string | null)[] = [];
  const nextAnswer = async (): Promise<string | null> => {
    if (dialogAnswers.length) return dialogAnswers.shift()!;
    // the bridge then asks the user to type the path (window.prompt) and sends it as preview:typedPath
    throw new UserError(
      NO_DIALOG,
      'type the path instead, or queue the answer: POST /__preview/dialog {"answers": ["/path"]}',
    );
  };
  /** A path the user typed in the preview's stand-in for a dialog: granted like a picked one. */
  const typedPath = (args: unknown[]): string => {
    const a = args[0] as { path?: unknown; write?: unknown } | undefined;
    if (!a || typeof a.path !== 'string' || !path.isAbsolute(a.path))
      throw new UserError('preview: expected an absolute path', 'type the full path, e.g. /home/me/photos');
    if (a.write === true) {
      if (!fs.existsSync(path.dirname(a.path)))
        throw new UserError(`preview: the folder of ${a.path} does not exist`);
      handlers.grants.grantWrite(a.path);
    } else {
      if (!fs.existsSync(a.path)) throw new UserError(`preview: ${a.path} does not exist`, 'check the path');
      handlers.grants.grantRead(a.path);
    }
    return a.path;
  };
  const broadcast = (event: JobEvent) => {
    const text = JSON.stringify({ event });
    for (const s of sockets) s.send(text);
  };
  const handlers = new StudioHandlers({
    workspaceFile: o.workspaceFile,
    shell: 'preview',
    versions: {
      electron: 'none (browser preview)',
      chrome: 'see the browser',
      node: process.versions.node,
      v8: process.versions.v8,
    },
    dialogs: { pickFolder: nextAnswer, pickFile: nextAnswer, pickSavePath: nextAnswer },
    emit: broadcast,
  });

  let port = 0;
  const hostOk = (req: http.IncomingMessage) =>
    req.headers.host === `127.0.0.1:${port}` || req.headers.host === `localhost:${port}`;
  const authed = (req: http.IncomingMessage) =>
    cookieOf(req) === token || req.headers['x-cfstudio-token'] === token;
  /** The app's policy, with this server's socket in connect-src; thumbnails are same-origin here. */
  const csp = (meta = false) =>
    contentSecurityPolicy({ meta })
      .replace("connect-src 'self'", `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`)
      .replace(' cfthumb:', '');

  const send = (
    res: http.ServerResponse,
    status: number,
    body: string | Buffer,
    type = 'text/plain; charset=utf-8',
  ) => {
    res.writeHead(status, {
      'content-type': type,
      'content-security-policy': csp(),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    res.end(body);
  };

  // built once the port is known (the policy names it); the build does not change while serving
  let page: string | null = null;
  const indexHtml = () =>
    (page ??= fs
      .readFileSync(path.join(rendererDir, 'index.html'), 'utf8')
      .replace(CSP_META, `$1${csp(true)}$2`)
      .replace(
        '<script type="module"',
        '<script src="/__preview/bridge.js"></script>\n    <script type="module"',
      ));

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!hostOk(req)) return send(res, 421, 'wrong host');
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      if (url.pathname === '/' && url.searchParams.get('token') === token) {
        res.writeHead(302, {
          location: '/',
          'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        });
        return res.end();
      }
      if (!authed(req))
        return send(res, 403, 'open the URL the preview printed (it carries the access token)');
      if (req.method === 'POST' && url.pathname === '/__preview/dialog') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { answers?: unknown };
        if (!Array.isArray(body.answers) || !body.answers.every((a) => a === null || typeof a === 'string'))
          return send(res, 400, 'expected {"answers": [path or null, ...]}');
        dialogAnswers.push(...(body.answers as (string | null)[]));
        return send(res, 200, 'ok');
      }
      if (req.method !== 'GET') return send(res, 405, 'method not allowed');
      if (url.pathname === '/' || url.pathname === '/index.html')
        return send(res, 200, indexHtml(), MIME['.html']);
      if (url.pathname === '/__preview/bridge.js')
        return send(res, 200, fs.readFileSync(bridgeFile), MIME['.js']);
      const thumb = /^\/__preview\/thumb\/(\d+)$/.exec(url.pathname);
      if (thumb) {
        try {
          const jpeg = await handlers.thumbnail(Number(thumb[1]), Number(url.searchParams.get('s') ?? 128));
          return send(res, 200, jpeg, 'image/jpeg');
        } catch (e) {
          return send(res, 404, toApiError(e).message);
        }
      }
      const file = path.resolve(rendererDir, '.' + decodeURIComponent(url.pathname));
      if (!file.startsWith(rendererDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile())
        return send(res, 404, 'not found');
      return send(res, 200, fs.readFileSync(file), MIME[path.extname(file)] ?? 'application/octet-stream');
    })().catch((e: unknown) => {
      log(`[preview] ${(e as Error).stack ?? String(e)}`);
      if (!res.headersSent) send(res, 500, 'internal error');
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    const okOrigin = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    if (!hostOk(req) || !okOrigin || cookieOf(req) !== token || !req.url?.startsWith('/__preview/ws')) {
      socket.write('HTTP/1.1 403 Forbidden\r\n\r\n');
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data) => {
        let msg: { id?: unknown; channel?: unknown; args?: unknown };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          return;
        }
        if (typeof msg.id !== 'number' || typeof msg.channel !== 'string' || !Array.isArray(msg.args)) return;
        const id = msg.id;
        const args = msg.args;
        const work =
          msg.channel === 'preview:typedPath'
            ? Promise.resolve().then(() => typedPath(args))
            : handlers.invoke(msg.channel, args);
        work
          .then((result) => ws.send(JSON.stringify({ id, ok: true, result: result ?? null })))
          .catch((e: unknown) => {
            const error = toApiError(e);
            if (error.kind === 'internal')
              log(`[preview ${String(msg.channel)}] ${(e as Error).stack ?? String(e)}`);
            ws.send(JSON.stringify({ id, ok: false, error }));
          });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    queueDialogAnswer: (a) => void dialogAnswers.push(a),
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await handlers.close();
    },
  };
}
