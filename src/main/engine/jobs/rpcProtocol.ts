/** Messages between an RpcWorker and its worker thread (structured-clone plain data). */
import type { WireError } from './jobProtocol';

export interface RpcRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type RpcReply = { id: number; ok: true; result: unknown } | ({ id: number; ok: false } & WireError);
