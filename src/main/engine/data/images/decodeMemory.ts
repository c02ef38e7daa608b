/**
 * A process-wide memory budget for image decoding. Decodes run in parallel (folder scans,
 * extraction, thumbnails, maybe all at once in the app), and one image can need far more memory
 * than its file size (a 1 MB PNG of 16383² RGBA pixels is 1 GB decoded), so the number of decodes
 * in flight is bounded by the bytes they are estimated to hold, not only by the number of cores.
 *
 * `withDecodeMemory(bytes, fn)` runs `fn` once `bytes` fit next to the decodes already running.
 * Waiters are admitted in arrival order (a large decode is not starved by a stream of small ones);
 * a decode larger than the whole budget runs alone. The estimates come from `decodeBytes`.
 */
import os from 'node:os';

const MiB = 1024 * 1024;

/** 1 GiB, or an eighth of the machine's memory when that is less (desktops with 4–8 GB). */
export const DEFAULT_DECODE_MEMORY_BUDGET = Math.min(1024 * MiB, Math.floor(os.totalmem() / 8));

/**
 * Rows a streaming decode holds at once: libvips reads PNG/TIFF/JPEG sequentially and keeps a band
 * of lines in its caches and per-thread buffers (measured: ~70 MB above Node's baseline for a
 * 16383-pixel-wide RGBA PNG resized to 32×32, i.e. about 1000 rows).
 */
const STREAM_ROWS = 1024;

/** How an image's pixels are produced, which decides how many of them are in memory at once. */
export type DecodeShape =
  /** read line by line and resized on the fly (JPEG, PNG, TIFF without the full-size alpha step) */
  | 'stream'
  /** the decoder produces the whole frame before anything else (GIF, WebP, AVIF, HEIF) */
  | 'frame'
  /** the whole image is materialised at full size as RGB (BMP, the exact alpha drop) */
  | 'full-rgb';

/** Estimated peak bytes of decoding a width × height image with `channels` channels. */
export function decodeBytes(shape: DecodeShape, width: number, height: number, channels: number): number {
  const c = Math.max(1, channels);
  switch (shape) {
    case 'stream':
      return width * c * Math.min(height, STREAM_ROWS);
    case 'frame':
      return width * height * Math.max(c, 4);
    case 'full-rgb':
      // the decoded frame (streamed in, but held) plus the full-size RGB copy we keep
      return width * height * (3 + c);
  }
}

let budget = DEFAULT_DECODE_MEMORY_BUDGET;
let inUse = 0;
let running = 0;
const queue: { bytes: number; admit: () => void }[] = [];

/** Change the budget (bytes ≥ 1), e.g. from settings or in tests; returns the previous one. */
export function setDecodeMemoryBudget(bytes: number): number {
  if (!(Number.isFinite(bytes) && bytes >= 1)) throw new RangeError(`invalid decode memory budget ${bytes}`);
  const previous = budget;
  budget = bytes;
  admitWaiting();
  return previous;
}

/** Bytes reserved by the decodes running now, and how many run (for tests and diagnostics). */
export function decodeMemoryInUse(): { bytes: number; running: number; waiting: number } {
  return { bytes: inUse, running, waiting: queue.length };
}

export async function withDecodeMemory<T>(bytes: number, fn: () => Promise<T>): Promise<T> {
  const need = Math.max(0, Math.ceil(bytes));
  if (queue.length > 0 || !fits(need)) await new Promise<void>((admit) => queue.push({ bytes: need, admit }));
  else reserve(need);
  try {
    return await fn();
  } finally {
    inUse -= need;
    running--;
    admitWaiting();
  }
}

function fits(bytes: number): boolean {
  return running === 0 || inUse + bytes <= budget;
}

function reserve(bytes: number): void {
  inUse += bytes;
  running++;
}

function admitWaiting(): void {
  while (queue.length > 0 && fits(queue[0].bytes)) {
    const next = queue.shift()!;
    reserve(next.bytes);
    next.admit();
  }
}
