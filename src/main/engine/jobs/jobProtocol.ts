/**
 * Messages between a job's caller and its worker thread (structured-clone plain data), shared
 * by every job kind (train, extract, …): start with an input, stream progress, end with a
 * result or an error whose kind survives the thread boundary.
 */
export type ToWorker<I> = { type: 'start'; input: I } | { type: 'cancel' };

export type FromWorker<P, R> =
  | { type: 'progress'; progress: P }
  | { type: 'done'; result: R }
  | {
      type: 'error';
      kind: 'user' | 'cancelled' | 'internal';
      message: string;
      hint?: string;
      stack?: string;
    };
