/**
 * A small fake of CfStudioApi for renderer tests: per-channel handlers, a record of calls, and
 * `emit` to push JobEvents. For deterministic edge cases and whole-App tests in happy-dom; the
 * real handlers over a real workspace are in test/helpers/localApi.ts (stores.local.test.ts).
 */
import type {
  CfStudioApi,
  IpcInvokeArgs,
  IpcInvokeChannel,
  IpcInvokeResult,
  JobEvent,
} from '../../src/shared/ipc';

export type Handlers = {
  [C in IpcInvokeChannel]?: (...args: IpcInvokeArgs<C>) => IpcInvokeResult<C> | Promise<IpcInvokeResult<C>>;
};

export interface FakeApi extends CfStudioApi {
  calls: { channel: IpcInvokeChannel; args: unknown[] }[];
  emit(event: JobEvent): void;
}

export function fakeApi(handlers: Handlers): FakeApi {
  const listeners = new Set<(e: JobEvent) => void>();
  const calls: FakeApi['calls'] = [];
  return {
    calls,
    emit: (e) => listeners.forEach((l) => l(e)),
    invoke<C extends IpcInvokeChannel>(channel: C, ...args: IpcInvokeArgs<C>): Promise<IpcInvokeResult<C>> {
      calls.push({ channel, args });
      const h = handlers[channel] as ((...a: IpcInvokeArgs<C>) => IpcInvokeResult<C>) | undefined;
      if (!h) return Promise.reject(new Error(`fake: no handler for ${channel}`));
      try {
        return Promise.resolve(h(...args));
      } catch (err) {
        return Promise.reject(err);
      }
    },
    onJobEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    thumbnailUrl: (id, size) => `cfstudio://thumb/${id}?size=${size}`,
    pathForDroppedFile: () => null,
  };
}
