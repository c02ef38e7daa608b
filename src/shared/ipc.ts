/**
 * The IPC contract between main (src/main/ipc), preload (src/preload) and renderer (src/renderer).
 *
 * Plain types only: this file is imported by all three processes, so it must not import anything
 * (no `electron`, no Node built-ins, nothing from main/preload/renderer) and must not hold runtime code.
 * Add a channel by adding an entry to `IpcInvokeContract`, a method to `CfStudioApi`, a handler in
 * src/main/ipc and a line in src/preload.
 */

/** What the main process reports about the running app (`app:info`). */
export interface AppInfo {
  /** CF Studio version (package.json `version`, via `app.getVersion()`). */
  version: string;
  /** `process.platform` of the main process: 'linux' | 'darwin' | 'win32' | ... */
  platform: string;
  /** Versions of the runtime pieces. */
  versions: {
    electron: string;
    chrome: string;
    node: string;
    v8: string;
  };
}

/**
 * Request/response channels (`ipcRenderer.invoke` ↔ `ipcMain.handle`).
 * `args` are what the renderer sends after the channel name; `result` is what the promise resolves to.
 * Main must still validate `args` at runtime: the renderer is untrusted.
 */
export interface IpcInvokeContract {
  'app:info': { args: []; result: AppInfo };
}

export type IpcInvokeChannel = keyof IpcInvokeContract;
export type IpcInvokeArgs<C extends IpcInvokeChannel> = IpcInvokeContract[C]['args'];
export type IpcInvokeResult<C extends IpcInvokeChannel> = IpcInvokeContract[C]['result'];

/** The API object that preload exposes to the renderer as `window.cfstudio` (and nothing else). */
export interface CfStudioApi {
  /** Version/platform of the running app; proves the bridge works. */
  info(): Promise<AppInfo>;
}
