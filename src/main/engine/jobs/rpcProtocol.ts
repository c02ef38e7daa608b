/** Messages between an RpcWorker and its worker thread (structured-clone plain data). */
import type { ErrorCode } from '../util/errors';

export interface RpcRequest {
  id: number;
  method: string;
  args: unknown[];
}

export type RpcReply =
  | { id: number; ok: true; result: unknown }
  | {
      id: number;
      ok: false;
      kind: 'user' | 'cancelled' | 'internal';
      message: string;
      hint?: string;
      code?: ErrorCode;
      data?: unknown;
      stack?: string;
    };
