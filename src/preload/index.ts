/**
 * Preload (sandboxed, context-isolated): exposes exactly one object, `window.cfstudio`, whose methods
 * are listed in CfStudioApi (src/shared/ipc.ts). Never expose ipcRenderer or any Node/Electron object.
 * May import only `electron` and src/shared (enforced by .dependency-cruiser.cjs). Built as CommonJS
 * (out/preload/index.cjs) because sandboxed preloads cannot be ES modules.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { JOB_EVENT_CHANNEL, type ApiError, type CfStudioApi, type JobEvent } from '../shared/ipc';

/** Main sends ApiErrors as JSON in the message; rebuild an Error carrying `apiError`. */
function toError(e: unknown): Error {
  const raw = e instanceof Error ? e.message : String(e);
  // Electron prefixes "Error invoking remote method 'x': Error: "
  const json = raw.slice(raw.indexOf('{'));
  try {
    const apiError = JSON.parse(json) as ApiError;
    return Object.assign(new Error(apiError.message), { apiError });
  } catch {
    return Object.assign(new Error(raw), {
      apiError: { message: raw, hint: null, kind: 'internal' } satisfies ApiError,
    });
  }
}

const api: CfStudioApi = {
  invoke: (channel, ...args) =>
    ipcRenderer.invoke(channel, ...args).catch((e: unknown) => Promise.reject(toError(e))),
  onJobEvent(listener) {
    const wrapped = (_e: unknown, event: JobEvent) => listener(event);
    ipcRenderer.on(JOB_EVENT_CHANNEL, wrapped);
    return () => void ipcRenderer.off(JOB_EVENT_CHANNEL, wrapped);
  },
  thumbnailUrl: (itemId, size) => `cfthumb://item/${Math.trunc(itemId)}?s=${Math.trunc(size)}`,
  pathForDroppedFile(file) {
    const p = webUtils.getPathForFile(file);
    if (!p) return null;
    // grants the path to main: only a real dropped File has one (a File made in JS has '')
    ipcRenderer.send('dialog:dropped', p);
    return p;
  },
};

contextBridge.exposeInMainWorld('cfstudio', api);
