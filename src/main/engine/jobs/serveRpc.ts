/**
 * The worker's side of an RpcWorker: answers each call with the named handler's result, one call
 * at a time in arrival order (handlers may be async), errors with their kind and code.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorToWire } from './jobProtocol';
import type { RpcReply, RpcRequest } from './rpcProtocol';

export function serveRpc<Init>(
  makeHandlers: (init: Init) => Record<string, (...args: never[]) => unknown>,
): void {
  const port = parentPort;
  if (!port) throw new Error('an RPC worker must run in a worker thread');
  const handlers = makeHandlers((workerData as { init: Init }).init);
  let queue = Promise.resolve();
  const answer = async (m: RpcRequest): Promise<void> => {
    let reply: RpcReply;
    try {
      const fn = handlers[m.method] as ((...a: unknown[]) => unknown) | undefined;
      if (!fn) throw new Error(`unknown method ${m.method}`);
      reply = { id: m.id, ok: true, result: await fn(...m.args) };
    } catch (e) {
      reply = { id: m.id, ok: false, ...errorToWire(e) };
    }
    port.postMessage(reply);
  };
  port.on('message', (m: RpcRequest) => {
    queue = queue.then(() => answer(m));
  });
}
