/**
 * Messages between a job's caller and its worker thread (structured-clone plain data), shared
 * by every job kind (train, extract, …): start with an input, stream progress, end with a
 * result or an error whose kind survives the thread boundary.
 */
import { CancelledError, UserError, type ErrorCode } from '../util/errors';

export type ToWorker<I> = { type: 'start'; input: I } | { type: 'cancel' };

export type FromWorker<P, R> =
  { type: 'progress'; progress: P } | { type: 'done'; result: R } | ({ type: 'error' } & WireError);

/** An error as it crosses a thread boundary: its kind, and for user errors their code and data. */
export interface WireError {
  kind: 'user' | 'cancelled' | 'internal';
  message: string;
  hint?: string;
  /** user errors: their code and data (see util/errors.ts) */
  code?: ErrorCode;
  data?: unknown;
  stack?: string;
}

/** The worker's side: what to send for an error thrown by the work. */
export function errorToWire(e: unknown): WireError {
  if (e instanceof CancelledError) return { kind: 'cancelled', message: e.message };
  if (e instanceof UserError)
    return { kind: 'user', message: e.message, hint: e.hint, code: e.code, data: e.data };
  return { kind: 'internal', message: (e as Error).message, stack: (e as Error).stack };
}

/** The caller's side: the error again, with its class (UserError, CancelledError) kept. */
export function errorFromWire(m: WireError): Error {
  if (m.kind === 'user')
    return new UserError(m.message, m.hint, {
      code: m.code ?? 'invalid-input',
      data: (m.data ?? {}) as never,
    });
  if (m.kind === 'cancelled') return new CancelledError(m.message.replace(/ cancelled$/, ''));
  return Object.assign(new Error(m.message), { stack: m.stack });
}
