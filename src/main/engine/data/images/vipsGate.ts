/**
 * libvips keeps one process-wide error buffer. When decodes fail at the same time, a failure can
 * pick up another file's message, or find the buffer already cleared ("Unknown error"), so the
 * reason shown for a broken file would depend on timing. Every sharp call of this folder runs
 * through `gated`: calls run concurrently, and a call that fails is run once more alone (after the
 * running ones finish, while new ones wait), so its error message is its own. Failures are rare,
 * so this costs nothing in the common case. Never nest gated calls: an inner one would wait for
 * the retry that waits for the outer one.
 */

let running = 0;
/** Set while a retry waits for the running calls to finish, or runs. */
let exclusive: Promise<void> | null = null;
let onIdle: (() => void) | null = null;

/** Run `first`; if it fails, run `retry` (a fresh attempt: sharp instances are single-use) alone. */
export async function gated<T>(first: () => Promise<T>, retry: () => Promise<T> = first): Promise<T> {
  while (exclusive) await exclusive;
  running++;
  try {
    return await first();
  } catch {
    // retried alone below, for a trustworthy error message
  } finally {
    running--;
    if (running === 0) onIdle?.();
  }
  return alone(retry);
}

async function alone<T>(fn: () => Promise<T>): Promise<T> {
  while (exclusive) await exclusive;
  let release!: () => void;
  exclusive = new Promise<void>((resolve) => (release = resolve));
  try {
    if (running > 0) await new Promise<void>((resolve) => (onIdle = resolve));
    onIdle = null;
    return await fn();
  } finally {
    exclusive = null;
    release();
  }
}
