/**
 * IPC handlers: thin, validate input, call the engine, return plain data.
 * Channel names and payload types come from src/shared/ipc.ts (the contract shared with preload
 * and renderer); arguments from the renderer are still treated as untrusted `unknown`.
 */
import { app, ipcMain, type IpcMainInvokeEvent } from 'electron';
import type { AppInfo, IpcInvokeChannel, IpcInvokeResult } from '../../shared/ipc';

export interface IpcOptions {
  /** Rejects calls that do not come from the app's own page (see security.ts). */
  isTrustedSender(event: IpcMainInvokeEvent): boolean;
}

type Handler<C extends IpcInvokeChannel> = (
  event: IpcMainInvokeEvent,
  args: unknown[],
) => IpcInvokeResult<C> | Promise<IpcInvokeResult<C>>;

function handle<C extends IpcInvokeChannel>(channel: C, options: IpcOptions, handler: Handler<C>): void {
  ipcMain.handle(channel, (event, ...args: unknown[]) => {
    if (!options.isTrustedSender(event)) {
      throw new Error(`${channel}: rejected call from an untrusted sender`);
    }
    return handler(event, args);
  });
}

function expectNoArgs(channel: IpcInvokeChannel, args: unknown[]): void {
  if (args.length !== 0) throw new TypeError(`${channel}: expected no arguments, got ${args.length}`);
}

export function appInfo(): AppInfo {
  return {
    version: app.getVersion(),
    platform: process.platform,
    versions: {
      electron: process.versions.electron,
      chrome: process.versions.chrome,
      node: process.versions.node,
      v8: process.versions.v8,
    },
  };
}

export function registerIpcHandlers(options: IpcOptions): void {
  handle('app:info', options, (_event, args) => {
    expectNoArgs('app:info', args);
    return appInfo();
  });
}
