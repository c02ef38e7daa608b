/**
 * The browser preview's stand-in for the preload script: defines `window.cfstudioBridge` (the
 * same named functions as the preload, src/shared/bridge.ts) over a WebSocket to the preview
 * server (src/main/preview/server.ts), which routes every call to the real main-process
 * handlers. Loaded as a classic script before the app.
 *
 * The page and the socket are authenticated by the HttpOnly cookie the server set when the
 * page was opened with its one-time token URL; the socket only accepts the page's own origin.
 */
import { BRIDGE_GLOBAL, bridgeName, INVOKE_CHANNELS, type CfStudioBridge } from '../shared/bridge';
import type { ApiError, JobEvent } from '../shared/ipc';

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: ApiError };
type ServerMessage = Reply | { event: JobEvent };

const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
const listeners = new Set<(e: JobEvent) => void>();
let nextId = 1;
let socket: WebSocket | null = null;
let opened: Promise<WebSocket> | null = null;

function apiErrorOf(error: ApiError): Error {
  return Object.assign(new Error(error.message), { apiError: error });
}

function connect(): Promise<WebSocket> {
  if (opened) return opened;
  opened = new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(
      `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/__preview/ws`,
    );
    ws.onopen = () => {
      socket = ws;
      resolve(ws);
    };
    ws.onerror = () => reject(new Error('the preview server is not reachable'));
    ws.onclose = () => {
      socket = null;
      opened = null;
      for (const p of pending.values())
        p.reject(
          apiErrorOf({
            message: 'the connection to the preview server closed',
            hint: 'restart the preview and reload the page',
            kind: 'internal',
          }),
        );
      pending.clear();
    };
    ws.onmessage = (m) => {
      const msg = JSON.parse(String(m.data)) as ServerMessage;
      if ('event' in msg) {
        for (const l of listeners) l(msg.event);
        return;
      }
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(apiErrorOf(msg.error));
    };
  });
  return opened;
}

async function call(channel: string, args: unknown[]): Promise<unknown> {
  const ws = socket ?? (await connect());
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    ws.send(JSON.stringify({ id, channel, args }));
  });
}

/** Same text as NO_DIALOG in src/main/preview/server.ts (sent only when typed paths are on). */
const NO_DIALOG = 'the browser preview cannot open native file dialogs';

/**
 * Dialogs: the server answers from its queue (tests); else, when the preview was started with
 * typed paths allowed, the user types the path.
 */
async function dialog(channel: string, args: unknown[]): Promise<unknown> {
  try {
    return await call(channel, args);
  } catch (e) {
    const apiError = (e as { apiError?: ApiError }).apiError;
    if (apiError?.message !== NO_DIALOG) throw e;
    const title = (args[0] as { title?: string } | undefined)?.title ?? 'Path';
    const typed = window.prompt(`${title}\n\n(browser preview: type the full path on this machine)`);
    if (!typed) return null;
    return call('preview:typedPath', [{ path: typed.trim(), write: channel === 'dialog:pickSavePath' }]);
  }
}

const calls = Object.fromEntries(
  INVOKE_CHANNELS.map((channel) => [
    bridgeName(channel),
    (...args: unknown[]) => (channel.startsWith('dialog:') ? dialog(channel, args) : call(channel, args)),
  ]),
);

const bridge: CfStudioBridge = {
  ...(calls as unknown as Omit<CfStudioBridge, 'onJobEvent' | 'thumbnailUrl' | 'pathForDroppedFile'>),
  onJobEvent(listener) {
    listeners.add(listener);
    void connect();
    return () => void listeners.delete(listener);
  },
  thumbnailUrl: (itemId, size) => `/__preview/thumb/${Math.trunc(itemId)}?s=${Math.trunc(size)}`,
  // a plain browser gives dropped files no path; the app offers the folder picker instead
  pathForDroppedFile: () => null,
};

Object.defineProperty(window, BRIDGE_GLOBAL, {
  value: Object.freeze(bridge),
  writable: false,
  configurable: false,
});
