/**
 * A long-lived worker thread answering calls (method + arguments → result), one at a time in
 * call order, for work that must stay off the caller's thread but keeps state between calls
 * (a cache, an open database connection). Errors keep their kind and code (UserError,
 * CancelledError) across the thread boundary; a worker that dies fails every pending call and
 * is restarted on the next one. serveRpc.ts is the worker's side.
 */
import { Worker } from 'node:worker_threads';
import { errorFromWire } from './jobProtocol';
import type { RpcReply, RpcRequest } from './rpcProtocol';
import { workerLocation } from './runWorkerJob';

export class RpcWorker<Api extends Record<string, (...args: never[]) => unknown>> {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /**
   * @param entry      worker module name ('runViewsWorker'); see runWorkerJob's workerLocation
   * @param init       sent to the worker as its workerData `init` (e.g. the workspace file)
   * @param sourceDir  from source: the folder of `<entry>.ts`
   */
  constructor(
    private readonly entry: string,
    private readonly init: unknown,
    private readonly sourceDir?: string,
  ) {}

  private start(): Worker {
    const loc = workerLocation(this.entry, this.sourceDir);
    const w = new Worker(loc.file, { workerData: { ...(loc.workerData ?? {}), init: this.init } });
    w.on('message', (m: RpcReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.result);
      else p.reject(errorFromWire(m));
    });
    const fail = (e: Error) => {
      this.worker = null;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`${this.entry} worker exited (code ${code})`)));
    // an idle worker does not keep the process alive (it is ref'd while calls are pending)
    w.unref();
    return w;
  }

  call<M extends keyof Api & string>(
    method: M,
    ...args: Parameters<Api[M]>
  ): Promise<Awaited<ReturnType<Api[M]>>> {
    this.worker ??= this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker!.ref();
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker!.postMessage({ id, method, args } satisfies RpcRequest);
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
