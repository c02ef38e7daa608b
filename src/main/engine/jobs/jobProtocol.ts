/**
 * Messages between a job's caller and its worker thread (structured-clone plain data), shared
 * by every job kind (train, extract, …): start with an input, stream progress, end with a
 * result or an error whose kind survives the thread boundary.
 */
import type { ErrorCode } from '../util/errors';

export type ToWorker<I> = { type: 'start'; input: I } | { type: 'cancel' };

export type FromWorker<P, R> =
  | { type: 'progress'; progress: P }
  | { type: 'done'; result: R }
  | {
      type: 'error';
      kind: 'user' | 'cancelled' | 'internal';
      message: string;
      hint?: string;
      /** user errors: their code and data (see util/errors.ts) */
      code?: ErrorCode;
      data?: unknown;
      stack?: string;
    };
