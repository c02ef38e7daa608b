/**
 * The worker-thread side of runWorkerJob: receives the input, runs `job` with a cancel signal
 * and a throttled progress sink, and posts the result or the error (kind preserved).
 */
import { parentPort, type Transferable } from 'node:worker_threads';
import { errorToWire, type FromWorker, type ToWorker } from './jobProtocol';

export interface JobContext<P> {
  signal: AbortSignal;
  /** sends progress at most every `minIntervalMs` (~10/s), always when `force` */
  progress: (p: P, force?: boolean) => void;
}

export function serveJob<I, P, R>(
  job: (input: I, ctx: JobContext<P>) => Promise<R>,
  opts: { minIntervalMs?: number; transfer?: (r: R) => Transferable[] } = {},
): void {
  const port = parentPort;
  if (!port) throw new Error('a job worker must run in a worker thread');
  const ac = new AbortController();
  const send = (m: FromWorker<P, R>, transfer?: Transferable[]) => port.postMessage(m, transfer);
  const minInterval = opts.minIntervalMs ?? 100;
  let last = 0;
  // start() never rejects: every outcome, error or not, is posted to the caller
  const start = async (input: I): Promise<void> => {
    try {
      const result = await job(input, {
        signal: ac.signal,
        progress: (progress, force) => {
          const now = Date.now();
          if (force || now - last >= minInterval) {
            last = now;
            send({ type: 'progress', progress });
          }
        },
      });
      send({ type: 'done', result }, opts.transfer?.(result));
    } catch (e) {
      send({ type: 'error', ...errorToWire(e) });
    }
  };
  port.on('message', (m: ToWorker<I>) => {
    if (m.type === 'cancel') ac.abort();
    else void start(m.input);
  });
}
