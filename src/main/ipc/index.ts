/**
 * Electron wiring of the IPC surface: every `ipcMain.handle` goes through StudioHandlers
 * (validation, path grants, engine) after the sender check; only the contract's channels are
 * handled (ARG_SCHEMAS); job events go to the window; thumbnails are served on the `cfthumb:`
 * scheme, which refuses items outside registered datasets. A path dropped on the window is
 * granted for reading when the preload reports it from a real dropped File (webUtils).
 */
import path from 'node:path';
import {
  app,
  dialog,
  ipcMain,
  protocol,
  type BrowserWindow,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
} from 'electron';
import { JOB_EVENT_CHANNEL, type ApiError, type JobEvent } from '../../shared/ipc';
import { StudioHandlers } from './handlers';
import { toApiError } from './jobs';
import { ARG_SCHEMAS } from './schemas';

export const THUMB_SCHEME = 'cfthumb';

/** The thumbnail scheme is privileged (fetchable, like https); registered with the app's before 'ready'. */
export const THUMB_SCHEME_PRIVILEGES = {
  scheme: THUMB_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
};

/** The one-way message the preload sends with the path of a dropped File. */
export const DROPPED_CHANNEL = 'dialog:dropped';

export interface IpcOptions {
  /** Rejects calls that do not come from the app's own page (see security.ts). */
  isTrustedSender(event: IpcMainInvokeEvent | IpcMainEvent): boolean;
  workspaceFile: string;
  window(): BrowserWindow | null;
}

/** Errors cross IPC as plain messages; the ApiError travels as JSON inside the message. */
function serializeError(e: ApiError): Error {
  return new Error(JSON.stringify(e));
}

export function registerIpcHandlers(options: IpcOptions): StudioHandlers {
  const emit = (event: JobEvent) => {
    const win = options.window();
    if (win && !win.isDestroyed()) win.webContents.send(JOB_EVENT_CHANNEL, event);
  };
  const handlers = new StudioHandlers({
    workspaceFile: options.workspaceFile,
    shell: 'electron',
    versions: {
      electron: process.versions.electron,
      chrome: process.versions.chrome,
      node: process.versions.node,
      v8: process.versions.v8,
    },
    emit,
    dialogs: {
      pickFolder: async ({ title }) => {
        const win = options.window();
        const r = win
          ? await dialog.showOpenDialog(win, { title, properties: ['openDirectory'] })
          : await dialog.showOpenDialog({ title, properties: ['openDirectory'] });
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      pickFile: async ({ title, extensions }) => {
        const opts = {
          title,
          properties: ['openFile' as const],
          filters: [{ name: extensions.join(', '), extensions }],
        };
        const win = options.window();
        const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
        return r.canceled ? null : (r.filePaths[0] ?? null);
      },
      pickSavePath: async ({ title, defaultName }) => {
        const opts = { title, defaultPath: defaultName };
        const win = options.window();
        const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
        return r.canceled || !r.filePath ? null : r.filePath;
      },
    },
  });

  for (const channel of Object.keys(ARG_SCHEMAS)) {
    ipcMain.handle(channel, async (event, ...args: unknown[]) => {
      if (!options.isTrustedSender(event))
        throw serializeError({
          message: `${channel}: rejected call from an untrusted sender`,
          hint: null,
          kind: 'internal',
        });
      try {
        return await handlers.invoke(channel, args);
      } catch (e) {
        const api = toApiError(e);
        if (api.kind === 'internal') console.error(`[ipc ${channel}]`, e);
        throw serializeError(api);
      }
    });
  }
  // a folder dropped on the window: preload reports the path it read from the real File object
  ipcMain.on(DROPPED_CHANNEL, (event, p: unknown) => {
    if (!options.isTrustedSender(event)) return;
    if (typeof p === 'string' && p.length < 4096 && path.isAbsolute(p)) handlers.grants.grantRead(p);
  });

  protocol.handle(THUMB_SCHEME, async (request) => {
    const url = new URL(request.url);
    const m = /^\/(\d+)$/.exec(url.pathname);
    if (url.hostname !== 'item' || !m) return new Response('not found', { status: 404 });
    try {
      const jpeg = await handlers.thumbnail(Number(m[1]), Number(url.searchParams.get('s') ?? 128));
      return new Response(new Uint8Array(jpeg), {
        headers: { 'content-type': 'image/jpeg', 'cache-control': 'max-age=3600' },
      });
    } catch (e) {
      return new Response(toApiError(e).message, { status: 404 });
    }
  });

  app.on('before-quit', () => void handlers.close());
  return handlers;
}
