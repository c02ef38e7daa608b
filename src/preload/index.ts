/**
 * Preload (sandboxed, context-isolated): exposes exactly one object, `window.cfstudio`, whose methods
 * are listed in CfStudioApi (src/shared/ipc.ts). Never expose ipcRenderer or any Node/Electron object.
 * May import only `electron` and src/shared (enforced by eslint.config.js). Built as CommonJS
 * (out/preload/index.cjs) because sandboxed preloads cannot be ES modules.
 */
import { contextBridge, ipcRenderer } from 'electron';
import type { CfStudioApi, IpcInvokeArgs, IpcInvokeChannel, IpcInvokeResult } from '../shared/ipc';

function invoke<C extends IpcInvokeChannel>(
  channel: C,
  ...args: IpcInvokeArgs<C>
): Promise<IpcInvokeResult<C>> {
  return ipcRenderer.invoke(channel, ...args) as Promise<IpcInvokeResult<C>>;
}

const api: CfStudioApi = {
  info: () => invoke('app:info'),
};

contextBridge.exposeInMainWorld('cfstudio', api);
