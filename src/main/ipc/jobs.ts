/**
 * Long work the renderer started (scan, extract + train, score, export): each job gets an id,
 * an AbortController for `jobs:cancel`, and reports through `emit` — progress (at most every
 * 100 ms, so a fast loop cannot flood the renderer), loss points, then exactly one of
 * done / failed / cancelled. The heavy parts already run in worker threads (extraction,
 * training); the main thread only forwards.
 *
 * At most MAX_RUNNING_JOBS run at once; one more is refused with a UserError rather than queued:
 * a queue would hold every request a (compromised or looping) renderer sends, unbounded, and
 * show jobs that never start, while a refusal keeps memory and CPU bounded and tells the user
 * why (each job already spreads over worker threads and cores).
 */
import { randomUUID } from 'node:crypto';
import type { ApiError, JobEvent, JobKind, JobProgress, JobResult, LossPoint } from '../../shared/ipc';
import { CancelledError, hintFor, UserError } from '../engine/util/errors';
import { APP_HINTS } from './hints';

export interface JobContext {
  signal: AbortSignal;
  progress(p: JobProgress): void;
  loss(point: LossPoint): void;
  /** the job's run is recorded */
  run(runId: number): void;
}

const PROGRESS_INTERVAL_MS = 100;

/** Jobs that may run at once (scan, extraction + training, scoring, export). */
export const MAX_RUNNING_JOBS = 4;

/** What the renderer sees of an error: message + hint for user errors, a short note for bugs. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof UserError)
    return { message: e.message, hint: hintFor(e, APP_HINTS), kind: 'user', code: e.code };
  if (e instanceof CancelledError || (e as Error)?.name === 'AbortError')
    return { message: (e as Error).message, hint: null, kind: 'cancelled', code: null };
  const message = e instanceof Error ? e.message : String(e);
  return {
    message: message.split('\n')[0].slice(0, 500),
    hint: 'this looks like a bug in CF Studio; the details are in the log of the main process',
    kind: 'internal',
    code: null,
  };
}

export class JobRegistry {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly emit: (e: JobEvent) => void,
    private readonly log: (msg: string) => void = (m) => console.error(m),
    private readonly maxRunning = MAX_RUNNING_JOBS,
  ) {}

  /** Starts `work` as a job; throws a UserError when `maxRunning` jobs are running already. */
  start(kind: JobKind, work: (ctx: JobContext) => Promise<JobResult>): { jobId: string } {
    if (this.running.size >= this.maxRunning)
      throw new UserError(
        `${kind}: ${this.running.size} jobs are running already, the most CF Studio runs at once`,
        'wait for one of them to finish, or cancel one, then try again',
      );
    const jobId = randomUUID();
    const controller = new AbortController();
    this.running.set(jobId, controller);
    let last = 0;
    const ctx: JobContext = {
      signal: controller.signal,
      progress: (progress) => {
        const now = performance.now();
        if (now - last < PROGRESS_INTERVAL_MS && progress.done < progress.total) return;
        last = now;
        this.emit({ jobId, kind, type: 'progress', progress });
      },
      loss: (point) => this.emit({ jobId, kind, type: 'loss', point }),
      run: (runId) => this.emit({ jobId, kind, type: 'run', runId }),
    };
    // start on the next tick so the caller has the job id before the first event
    setImmediate(() => {
      work(ctx)
        .then((result) => this.emit({ jobId, kind, type: 'done', result }))
        .catch((e: unknown) => {
          if (controller.signal.aborted || e instanceof CancelledError) {
            this.emit({ jobId, kind, type: 'cancelled' });
            return;
          }
          const error = toApiError(e);
          if (error.kind === 'internal')
            this.log(`[job ${kind} ${jobId}] ${(e as Error)?.stack ?? String(e)}`);
          this.emit({ jobId, kind, type: 'failed', error });
        })
        .finally(() => this.running.delete(jobId));
    });
    return { jobId };
  }

  cancel(jobId: string): void {
    this.running.get(jobId)?.abort();
  }

  /** Cancels every job (app quit) and resolves once none is left running. */
  async cancelAll(timeoutMs = 10_000): Promise<void> {
    for (const c of this.running.values()) c.abort();
    const t0 = Date.now();
    while (this.running.size > 0 && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
  }
}
