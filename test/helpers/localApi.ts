/**
 * The app's API (`window.cfstudio`) in-process for tests: the real main-process handlers
 * (src/main/ipc/handlers.ts) over a real SQLite workspace, with the same error shape the preload
 * and the preview bridge give (an Error carrying `apiError`). Dialogs answer from a queue.
 */
import type { ApiError, CfStudioApi, JobEvent, JobResult } from '../../src/shared/ipc';
import { StudioHandlers } from '../../src/main/ipc/handlers';
import { toApiError } from '../../src/main/ipc/jobs';

export interface LocalApi {
  api: CfStudioApi;
  handlers: StudioHandlers;
  /** every job event so far, in order */
  events: JobEvent[];
  /** the next dialog answers `answer` (a path, or null = cancelled) */
  queueDialogAnswer(answer: string | null): void;
  /** resolves with the job's result, rejects with its ApiError (or 'cancelled') */
  waitForJob(jobId: string, timeoutMs?: number): Promise<JobResult>;
  close(): Promise<void>;
}

export async function createLocalApi(o: { workspace: string }): Promise<LocalApi> {
  const answers: (string | null)[] = [];
  const listeners = new Set<(e: JobEvent) => void>();
  const events: JobEvent[] = [];
  const next = async () => {
    if (!answers.length) throw new Error('test: a dialog opened with no queued answer');
    return answers.shift()!;
  };
  const handlers = new StudioHandlers({
    workspaceFile: o.workspace,
    shell: 'preview',
    versions: {
      electron: 'none (test)',
      chrome: 'none (test)',
      node: process.versions.node,
      v8: process.versions.v8,
    },
    dialogs: { pickFolder: next, pickFile: next, pickSavePath: next },
    emit: (e) => {
      events.push(e);
      for (const l of listeners) l(e);
    },
  });
  const api: CfStudioApi = {
    invoke: (async (channel: string, ...args: unknown[]) => {
      try {
        // a JSON round trip, like IPC and the socket: nothing but plain data crosses
        const r = await handlers.invoke(channel, JSON.parse(JSON.stringify(args)) as unknown[]);
        return r === undefined ? undefined : JSON.parse(JSON.stringify(r));
      } catch (e) {
        const apiError: ApiError = toApiError(e);
        throw Object.assign(new Error(apiError.message), { apiError });
      }
    }) as CfStudioApi['invoke'],
    onJobEvent(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    thumbnailUrl: (itemId, size) => `/__preview/thumb/${itemId}?s=${size}`,
    pathForDroppedFile: () => null,
  };
  const waitForJob = (jobId: string, timeoutMs = 600_000) =>
    new Promise<JobResult>((resolve, reject) => {
      const check = (e: JobEvent) => {
        if (e.jobId !== jobId) return false;
        if (e.type === 'done') resolve(e.result);
        else if (e.type === 'failed')
          reject(Object.assign(new Error(e.error.message), { apiError: e.error }));
        else if (e.type === 'cancelled')
          reject(
            Object.assign(new Error('cancelled'), {
              apiError: { message: 'cancelled', hint: null, kind: 'cancelled' },
            }),
          );
        else return false;
        return true;
      };
      if (events.some(check)) return;
      const timer = setTimeout(
        () => reject(new Error(`test: job ${jobId} did not end in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const l = (e: JobEvent) => {
        if (check(e)) {
          clearTimeout(timer);
          listeners.delete(l);
        }
      };
      listeners.add(l);
    });
  return {
    api,
    handlers,
    events,
    queueDialogAnswer: (a) => void answers.push(a),
    waitForJob,
    close: () => handlers.close(),
  };
}
