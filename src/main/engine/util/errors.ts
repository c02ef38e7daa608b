/**
 * An error meant for the user: what failed, on which input, and what they can do.
 * The CLI prints `message` (and `hint`) without a stack trace.
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Thrown when a long job is cancelled through its AbortSignal. */
export class CancelledError extends Error {
  constructor(what = 'operation') {
    super(`${what} cancelled`);
    this.name = 'CancelledError';
  }
}
