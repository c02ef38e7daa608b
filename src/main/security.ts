/**
 * Electron security checklist (https://www.electronjs.org/docs/latest/tutorial/security) applied
 * in one place: CSP header, no remote content, no permissions, no navigation, no new windows,
 * no <webview>, and IPC sender validation. The built renderer is served on the app:// scheme
 * (./appProtocol.ts), never from file://.
 */
import type { IpcMainEvent, IpcMainInvokeEvent, Session, WebContents } from 'electron';
import { APP_HOST, APP_PAGE_URL, APP_SCHEME } from './appProtocol';

/** Where the renderer is loaded from. */
export type RendererSource =
  /** production / `electron-vite preview`: the built out/renderer, as app://cfstudio/ */
  | { kind: 'app'; root: string }
  /** `electron-vite dev`: the Vite dev server on localhost */
  | { kind: 'dev'; url: string };

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** A dev-server URL is only accepted on the loopback interface (never remote content). */
export function isLoopbackHttpUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && LOOPBACK_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

function parse(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The URL the window loads. */
export function rendererUrl(source: RendererSource): string {
  return source.kind === 'dev' ? source.url : APP_PAGE_URL;
}

/** True if `url` is the app page itself (top-level document we loaded). */
export function isAppPageUrl(source: RendererSource, url: string): boolean {
  const u = parse(url);
  if (!u) return false;
  if (source.kind === 'dev') return u.origin === new URL(source.url).origin;
  u.hash = '';
  u.search = '';
  return u.href === APP_PAGE_URL;
}

/** True if the renderer may load `url` (a subresource or the page itself). Everything else is cancelled. */
function isAllowedRequest(source: RendererSource, url: string): boolean {
  const u = parse(url);
  if (!u) return false;
  switch (u.protocol) {
    case 'data:':
    case 'blob:':
    case 'devtools:':
    case 'cfthumb:':
      return true;
    case `${APP_SCHEME}:`:
      return source.kind === 'app' && u.host === APP_HOST;
    case 'http:':
    case 'https:':
    case 'ws:':
    case 'wss:': {
      if (source.kind !== 'dev') return false;
      const dev = new URL(source.url);
      return u.hostname === dev.hostname && u.port === dev.port;
    }
    default:
      return false;
  }
}

/** Session-wide rules: CSP header on every response, no requests outside the app, no permissions. */
export function hardenSession(ses: Session, source: RendererSource, csp: string): void {
  ses.webRequest.onHeadersReceived((details, callback) => {
    const responseHeaders: Record<string, string[]> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      if (name.toLowerCase() !== 'content-security-policy') responseHeaders[name] = value;
    }
    responseHeaders['Content-Security-Policy'] = [csp];
    callback({ responseHeaders });
  });
  ses.webRequest.onBeforeRequest((details, callback) => {
    const cancel = !isAllowedRequest(source, details.url);
    if (cancel) console.warn(`[security] blocked request to ${details.url}`);
    callback({ cancel });
  });
  // camera, microphone, notifications, geolocation, clipboard-read, ...: none are needed
  ses.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
}

/** Per-WebContents rules; call from app.on('web-contents-created') so every contents gets them. */
export function guardWebContents(contents: WebContents, source: RendererSource): void {
  // The app is a single page: deny every navigation (links, location changes, drag-and-drop of files).
  // Only in dev, a reload of the dev-server page itself is let through (Vite full reload).
  contents.on('will-navigate', (event, url) => {
    if (source.kind === 'dev' && isAppPageUrl(source, url)) return;
    event.preventDefault();
    console.warn(`[security] blocked navigation to ${url}`);
  });
  contents.setWindowOpenHandler(({ url }) => {
    console.warn(`[security] blocked window.open/new window for ${url}`);
    return { action: 'deny' };
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** IPC handlers accept calls only from the main frame of our own page. */
export function isTrustedSender(source: RendererSource, event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame) return false;
  return isAppPageUrl(source, frame.url);
}
