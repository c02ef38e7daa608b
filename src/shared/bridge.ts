/**
 * The object the preload (src/preload/index.ts) and the browser preview's bridge
 * (src/preload/previewBridge.ts) put on `window.cfstudioBridge`: one named function per channel
 * of the IPC contract (`runs:setThreshold` → `runsSetThreshold`), never a function that forwards
 * any channel name it is given. `apiFromBridge` turns it into the CfStudioApi the renderer uses
 * (src/renderer/src/lib/api.ts), so the renderer keeps calling `invoke(channel, …)`.
 *
 * Types and pure functions only: every process loads this file (see ./ipc.ts).
 */
import type {
  ApiError,
  CfStudioApi,
  IpcInvokeArgs,
  IpcInvokeChannel,
  IpcInvokeResult,
  JobEvent,
} from './ipc';

/** The global the bridge is exposed as. */
export const BRIDGE_GLOBAL = 'cfstudioBridge';

/** `'runs:setThreshold'` → `'runsSetThreshold'`. */
export type BridgeName<C extends string> = C extends `${infer A}:${infer B}` ? `${A}${Capitalize<B>}` : never;

/** One function per invoke channel, named after it. */
export type BridgeCalls = {
  [C in IpcInvokeChannel as BridgeName<C>]: (...args: IpcInvokeArgs<C>) => Promise<IpcInvokeResult<C>>;
};

export interface CfStudioBridge extends BridgeCalls {
  onJobEvent(listener: (event: JobEvent) => void): () => void;
  thumbnailUrl(itemId: number, size: number): string;
  pathForDroppedFile(file: File): string | null;
}

/**
 * Every invoke channel of the contract (a key missing here, or one too many, is a compile
 * error): the allow-list the main process, the preload and the preview check calls against.
 */
const CHANNELS: Record<IpcInvokeChannel, true> = {
  'app:info': true,
  'app:setDevice': true,
  'dialog:pickFolder': true,
  'dialog:pickFile': true,
  'dialog:pickSavePath': true,
  'datasets:list': true,
  'datasets:get': true,
  'datasets:add': true,
  'datasets:items': true,
  'datasets:remove': true,
  'extractors:list': true,
  'extractors:import': true,
  'methods:list': true,
  'runs:train': true,
  'runs:score': true,
  'runs:list': true,
  'runs:get': true,
  'runs:scores': true,
  'runs:item': true,
  'runs:setThreshold': true,
  'runs:remove': true,
  'runs:export': true,
  'runs:mark': true,
  'runs:retrain': true,
  'runs:prototypes': true,
  'jobs:cancel': true,
};

export const INVOKE_CHANNELS = Object.freeze(Object.keys(CHANNELS) as IpcInvokeChannel[]);

export function isInvokeChannel(channel: unknown): channel is IpcInvokeChannel {
  return typeof channel === 'string' && Object.hasOwn(CHANNELS, channel);
}

/** The bridge function of `channel`. */
export function bridgeName<C extends IpcInvokeChannel>(channel: C): BridgeName<C> {
  const [area, call] = channel.split(':');
  return `${area}${call.charAt(0).toUpperCase()}${call.slice(1)}` as BridgeName<C>;
}

/** The renderer's CfStudioApi over a bridge: `invoke` calls the named function of a known channel. */
export function apiFromBridge(bridge: CfStudioBridge): CfStudioApi {
  const fns = bridge as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
  return {
    invoke: ((channel: string, ...args: unknown[]) => {
      const fn = isInvokeChannel(channel) ? fns[bridgeName(channel)] : undefined;
      if (typeof fn !== 'function') {
        const apiError: ApiError = {
          message: `unknown IPC channel "${String(channel).slice(0, 80)}"`,
          hint: null,
          kind: 'internal',
          code: null,
        };
        return Promise.reject(Object.assign(new Error(apiError.message), { apiError }));
      }
      return fn(...args);
    }) as CfStudioApi['invoke'],
    onJobEvent: (listener) => bridge.onJobEvent(listener),
    thumbnailUrl: (itemId, size) => bridge.thumbnailUrl(itemId, size),
    pathForDroppedFile: (file) => bridge.pathForDroppedFile(file),
  };
}
