/**
 * The `app://` scheme the desktop window loads the renderer from (instead of `file://`, which
 * would make every file on disk same-origin with the page): `app://cfstudio/<path>` serves the
 * files of the renderer build folder and nothing else. A request is answered only for GET/HEAD
 * on host `cfstudio`, with a path that decodes to plain segments (no `..`, no encoded `/` or
 * `\`, no NUL) and resolves, symlinks followed, to a regular file inside the folder. The page
 * gets the app's Content-Security-Policy as a header.
 *
 * Electron-free (a web Request in, a web Response out): Electron's protocol.handle takes it as
 * is (src/main/index.ts), and tests call it directly.
 */
import fs from 'node:fs';
import path from 'node:path';

export const APP_SCHEME = 'app';
export const APP_HOST = 'cfstudio';
/** The renderer's page. */
export const APP_PAGE_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** What the scheme may do in the page: a standard, secure scheme that fetch and ES modules work on. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
};

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

function notFound(): Response {
  return new Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } });
}

/**
 * The file of `root` an app:// URL names, or null: `root` must be a real path (no symlinks in it).
 * Exported for tests.
 */
export function resolveAppPath(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST) return null;
  // encoded separators and dots would be decoded into the path after the URL parser normalized it
  if (/%2f|%5c|%00|%2e/i.test(u.pathname)) return null;
  let rel: string;
  try {
    rel = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (rel === '/' || rel === '') rel = '/index.html';
  const segments = rel.split('/').slice(1);
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\') || s.includes('\0')))
    return null;
  const file = path.join(root, ...segments);
  if (!file.startsWith(root + path.sep)) return null;
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch {
    return null;
  }
  // a symlink inside the folder that leads out of it is refused like a path that does
  if (!real.startsWith(root + path.sep)) return null;
  return fs.statSync(real).isFile() ? real : null;
}

/** The handler of app:// requests over the build folder `rendererDir`; the HTML gets `csp`. */
export function appProtocolHandler(
  rendererDir: string,
  csp: string,
): (request: Request) => Promise<Response> {
  const root = fs.realpathSync(rendererDir);
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return new Response('method not allowed', { status: 405 });
    const file = resolveAppPath(root, request.url);
    if (!file) return notFound();
    const ext = path.extname(file).toLowerCase();
    const headers: Record<string, string> = {
      'content-type': MIME[ext] ?? 'application/octet-stream',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    };
    if (ext === '.html') headers['content-security-policy'] = csp;
    const body = request.method === 'HEAD' ? null : new Uint8Array(await fs.promises.readFile(file));
    return new Response(body, { status: 200, headers });
  };
}
