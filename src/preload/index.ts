/**
 * Preload (sandboxed, context-isolated): exposes exactly one object, `window.cfstudioBridge`,
 * with one named function per channel of the IPC contract (src/shared/bridge.ts), each bound to
 * its own channel name here: the page can call these and nothing else (there is no function
 * that takes a channel name). Never expose ipcRenderer or any Node/Electron object.
 * May import only `electron` and src/shared (enforced by .dependency-cruiser.cjs). Built as
 * CommonJS (out/preload/index.cjs) because sandboxed preloads cannot be ES modules.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
// types only: a sandboxed preload is one self-contained file, and a runtime import of a module
// the preview bridge imports too would split it into a shared chunk it could not load
import type { BRIDGE_GLOBAL, CfStudioBridge } from '../shared/bridge';
import {
  JOB_EVENT_CHANNEL,
  type ApiError,
  type IpcInvokeArgs,
  type IpcInvokeChannel,
  type IpcInvokeResult,
  type JobEvent,
} from '../shared/ipc';

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

/** The function for one channel, fixed here. */
function call<C extends IpcInvokeChannel>(channel: C) {
  return (...args: IpcInvokeArgs<C>): Promise<IpcInvokeResult<C>> =>
    ipcRenderer.invoke(channel, ...args).catch((e: unknown) => Promise.reject(toError(e))) as Promise<
      IpcInvokeResult<C>
    >;
}

const bridge: CfStudioBridge = {
  appInfo: call('app:info'),
  appSetDevice: call('app:setDevice'),
  dialogPickFolder: call('dialog:pickFolder'),
  dialogPickFile: call('dialog:pickFile'),
  dialogPickSavePath: call('dialog:pickSavePath'),
  datasetsList: call('datasets:list'),
  datasetsGet: call('datasets:get'),
  datasetsAdd: call('datasets:add'),
  datasetsItems: call('datasets:items'),
  datasetsRemove: call('datasets:remove'),
  extractorsList: call('extractors:list'),
  extractorsImport: call('extractors:import'),
  methodsList: call('methods:list'),
  runsTrain: call('runs:train'),
  runsScore: call('runs:score'),
  runsList: call('runs:list'),
  runsGet: call('runs:get'),
  runsScores: call('runs:scores'),
  runsItem: call('runs:item'),
  runsSetThreshold: call('runs:setThreshold'),
  runsRemove: call('runs:remove'),
  runsExport: call('runs:export'),
  runsMark: call('runs:mark'),
  runsRetrain: call('runs:retrain'),
  runsPrototypes: call('runs:prototypes'),
  jobsCancel: call('jobs:cancel'),
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

const GLOBAL: typeof BRIDGE_GLOBAL = 'cfstudioBridge';
contextBridge.exposeInMainWorld(GLOBAL, bridge);
