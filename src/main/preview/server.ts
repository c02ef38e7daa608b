/**
 * Browser preview of the desktop app, for development and the UI tests on machines without the
 * Electron binary: serves the built renderer (out/renderer) on 127.0.0.1 and provides the same
 * `window.cfstudio` API over a WebSocket (out/preload/previewBridge.cjs), backed by the real
 * main-process handlers (src/main/ipc/handlers.ts), the real engine and a real SQLite workspace.
 *
 * Security: loopback only; a random token in the start URL is exchanged, once, for an HttpOnly,
 * SameSite=Strict session cookie (another random value) that every request and the socket must
 * carry, and is dead from then on; the Host header must be the loopback address (no DNS
 * rebinding) and the socket's Origin the page's own. The page gets the app's
 * Content-Security-Policy (plus the socket's address in connect-src). SameSite does not stop a
 * page on another 127.0.0.1 port (same site, other origin), so the one state-changing endpoint
 * takes only `application/json` with the page's exact Origin and the `X-CFStudio-Preview: 1`
 * header (what a cross-origin page cannot send without a CORS preflight, which is never
 * granted), and at most MAX_BODY bytes (413 beyond, without reading on).
 *
 * The browser has no native dialogs. Dialogs answer from a queue filled through
 * `queueDialogAnswer` (in-process, tests); paths typed by the user (`preview:typedPath`) and
 * answers queued with POST /__preview/dialog {"answers": [...]} grant a path without a dialog,
 * so both exist only when the preview is started with `allowTypedPaths` (--allow-typed-paths,
 * or CFSTUDIO_PREVIEW_TYPED_PATHS=1): the UI test and a developer who accepts that any script
 * of the page may then name files to read and write.
 *
 *   npm run preview -- [--workspace FILE] [--port N] [--allow-typed-paths]
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
  /**
   * Opt-in (tests, development): paths typed in the page and answers POSTed to
   * /__preview/dialog are granted like picked ones. Off by default.
   */
  allowTypedPaths?: boolean;
}

export interface PreviewServer {
  /** open this URL (it carries the one-time token; it works once) */
  url: string;
  port: number;
  /** the next dialog (folder/file/save) answers this path, or cancels with null (in-process) */
  queueDialogAnswer(answer: string | null): void;
  /** dialog answers waiting (tests: nothing a refused request sent was queued) */
  queuedAnswers(): readonly (string | null)[];
  close(): Promise<void>;
}

const COOKIE = 'cfstudio_preview';
/** The message the bridge recognizes to fall back to a typed path (keep in sync with previewBridge.ts). */
export const NO_DIALOG = 'the browser preview cannot open native file dialogs';
/** Largest request body accepted (the dialog queue's JSON). */
export const MAX_BODY = 64 * 1024;
/** The header a state-changing request must carry (a cross-origin page cannot without CORS). */
export const PREVIEW_HEADER = 'x-cfstudio-preview';
const MAX_ANSWERS = 16;
const TYPED_PATHS_HINT =
  'use the desktop app or the command line (cfstudio dataset add FOLDER), or restart the preview with --allow-typed-paths to type paths (any script of the page may then name files to read and write)';
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

/** The media type of a Content-Type header, lower case, without parameters. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

class BodyTooLarge extends Error {}

/** The request body, at most `max` bytes; throws BodyTooLarge as soon as it goes beyond. */
async function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > max) throw new BodyTooLarge();
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
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

  const typedPaths = o.allowTypedPaths ?? false;
  /** in the start URL; valid for one exchange */
  let startToken: string | null = randomBytes(24).toString('hex');
  const startUrlToken = startToken;
  /** the cookie's value, set by that exchange */
  let session: string | null = null;
  const sockets = new Set<WebSocket>();
  const dialogAnswers: (string | null)[] = [];
  const nextAnswer = async (): Promise<string | null> => {
    if (dialogAnswers.length) return dialogAnswers.shift()!;
    // the bridge then asks the user to type the path (window.prompt) and sends it as preview:typedPath
    if (typedPaths) throw new UserError(NO_DIALOG, 'type the path instead');
    // not NO_DIALOG: the bridge must not offer to type a path the server will refuse
    throw new UserError('the browser preview has no file dialogs, and typed paths are off', TYPED_PATHS_HINT);
  };
  /** A path the user typed in the preview's stand-in for a dialog: granted like a picked one. */
  const typedPath = (args: unknown[]): string => {
    if (!typedPaths) throw new UserError('preview: typed paths are off', TYPED_PATHS_HINT);
    const a = args[0] as { path?: unknown; write?: unknown } | undefined;
    if (!a || typeof a.path !== 'string' || a.path.length > 4096 || !path.isAbsolute(a.path))
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
  const authed = (req: http.IncomingMessage) => session !== null && cookieOf(req) === session;
  /** the page's own origin (the Host was checked: loopback, this port) */
  const sameOrigin = (req: http.IncomingMessage) => req.headers.origin === `http://${req.headers.host}`;
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

  /** Refuses a request and closes its connection without reading the rest of its body. */
  const refuse = (res: http.ServerResponse, status: number, message: string) => {
    const sock = res.req.socket;
    res.setHeader('connection', 'close');
    res.once('finish', () => sock?.destroy());
    send(res, status, message);
  };

  /** POST /__preview/dialog: queues dialog answers (typed paths opt-in only). */
  const queueAnswers = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!typedPaths) return refuse(res, 403, `queued dialog answers are off: ${TYPED_PATHS_HINT}`);
    if (!sameOrigin(req)) return refuse(res, 403, 'refused: not from the preview page (Origin)');
    if (req.headers[PREVIEW_HEADER] !== '1')
      return refuse(res, 403, `refused: ${PREVIEW_HEADER} header missing`);
    if (mediaType(req.headers['content-type']) !== 'application/json')
      return refuse(res, 415, 'expected Content-Type: application/json');
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY)
      return refuse(res, 413, `the body is larger than ${MAX_BODY} bytes`);
    if (req.headers.expect === '100-continue') res.writeContinue();
    let body: { answers?: unknown };
    try {
      body = JSON.parse((await readBody(req, MAX_BODY)).toString('utf8')) as typeof body;
    } catch (e) {
      if (e instanceof BodyTooLarge) return refuse(res, 413, `the body is larger than ${MAX_BODY} bytes`);
      return send(res, 400, 'the body is not JSON');
    }
    const answers = body?.answers;
    if (
      !Array.isArray(answers) ||
      answers.length > MAX_ANSWERS ||
      !answers.every((a) => a === null || (typeof a === 'string' && a.length <= 4096 && path.isAbsolute(a)))
    )
      return send(res, 400, `expected {"answers": [absolute path or null, ...]} (at most ${MAX_ANSWERS})`);
    dialogAnswers.push(...(answers as (string | null)[]));
    return send(res, 200, 'ok');
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    void (async () => {
      if (!hostOk(req)) return refuse(res, 421, 'wrong host');
      const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
      const token = url.pathname === '/' ? url.searchParams.get('token') : null;
      if (token !== null) {
        if (startToken === null || token !== startToken)
          return refuse(res, 403, 'this access link was used already (it works once): restart the preview');
        startToken = null;
        session = randomBytes(24).toString('hex');
        res.writeHead(302, {
          location: '/',
          'set-cookie': `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`,
          'cache-control': 'no-store',
        });
        return res.end();
      }
      if (!authed(req))
        return refuse(res, 403, 'open the URL the preview printed (it carries the access token)');
      if (req.method === 'POST' && url.pathname === '/__preview/dialog') return queueAnswers(req, res);
      if (req.method !== 'GET') return refuse(res, 405, 'method not allowed');
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
  };
  const server = http.createServer(handle);
  // a client that waits for "100 Continue" before a big body is answered by the same checks
  server.on('checkContinue', handle);

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req, socket, head) => {
    const origin = req.headers.origin;
    const okOrigin = origin === `http://127.0.0.1:${port}` || origin === `http://localhost:${port}`;
    const okCookie = session !== null && cookieOf(req) === session;
    if (!hostOk(req) || !okOrigin || !okCookie || !req.url?.startsWith('/__preview/ws')) {
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
    url: `http://127.0.0.1:${port}/?token=${startUrlToken}`,
    port,
    queueDialogAnswer: (a) => void dialogAnswers.push(a),
    queuedAnswers: () => [...dialogAnswers],
    close: async () => {
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await handlers.close();
    },
  };
}
