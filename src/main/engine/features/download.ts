/**
 * Downloads a model file with a known sha256: streamed (global fetch) to a temporary file next to
 * the destination while hashing, verified, then renamed into place, so that the destination is
 * either absent or the complete, verified file — never a partial or wrong one. Progress reports
 * bytes, rate (bytes/s since the start) and ETA = (total − received) / rate.
 *
 * `ensureCatalogModel` does this for a catalog entry, reusing a present file with the right hash.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CancelledError, UserError } from '../util/errors';
import { catalogDownload, getCatalogEntry, type CatalogOptions } from './catalog';
import { sha256File } from './sha256File';

export interface DownloadProgress {
  received: number;
  /** Content-Length (or the expected size), null when unknown */
  total: number | null;
  bytesPerSec: number;
  etaSeconds: number | null;
}

export interface DownloadOptions {
  sha256: string;
  /** expected size: a different Content-Length stops the download early */
  bytes?: number | null;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  file: string;
  sha256: string;
  bytes: number;
}

/** at most this often, plus once at the end: progress is for humans */
const PROGRESS_INTERVAL_MS = 100;

export async function downloadModel(
  url: string,
  destFile: string,
  opts: DownloadOptions,
): Promise<DownloadResult> {
  const want = opts.sha256.toLowerCase();
  const byHand = (extra = '') =>
    `${extra}You can download ${url} by hand (browser, curl) and use the local file instead` +
    ` (its sha256 must be ${want}).`;
  const cancelled = () => new CancelledError('download');
  if (opts.signal?.aborted) throw cancelled();

  const dir = path.dirname(destFile);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (e) {
    throw new UserError(
      `Cannot create the folder "${dir}" for ${path.basename(destFile)}: ${(e as Error).message}`,
    );
  }
  const temp = path.join(dir, `.${path.basename(destFile)}.${randomBytes(4).toString('hex')}.part`);

  let response: Response;
  try {
    response = await fetch(url, { signal: opts.signal, redirect: 'follow' });
  } catch (e) {
    if (opts.signal?.aborted) throw cancelled();
    throw new UserError(
      `Could not download ${url}: ${networkReason(e)}`,
      byHand('Check the internet connection or proxy. '),
    );
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new UserError(
      `Could not download ${url}: the server answered HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
      byHand(response.status === 404 ? 'The file may have moved. ' : ''),
    );
  }
  const header = response.headers.get('content-length');
  // with Content-Encoding (gzip…) fetch decompresses, and Content-Length counts the compressed bytes
  const encoded = !['', 'identity'].includes(response.headers.get('content-encoding') ?? '');
  const contentLength = !encoded && header !== null && /^\d+$/.test(header) ? Number(header) : null;
  if (opts.bytes != null && contentLength !== null && contentLength !== opts.bytes) {
    await response.body?.cancel().catch(() => {});
    throw new UserError(
      `Could not download ${url}: the server offers ${contentLength} bytes, the expected file has ${opts.bytes}`,
      byHand('The URL may now serve a different file. '),
    );
  }
  const total = contentLength ?? opts.bytes ?? null;

  const hash = createHash('sha256');
  const t0 = performance.now();
  let received = 0;
  let lastReport = -Infinity;
  const report = (force: boolean) => {
    const now = performance.now();
    if (!opts.onProgress || (!force && now - lastReport < PROGRESS_INTERVAL_MS)) return;
    lastReport = now;
    const secs = (now - t0) / 1000;
    const bytesPerSec = secs > 0 ? received / secs : 0;
    opts.onProgress({
      received,
      total,
      bytesPerSec,
      etaSeconds: total !== null && bytesPerSec > 0 ? Math.max(0, total - received) / bytesPerSec : null,
    });
  };

  let fh: fs.FileHandle | undefined;
  let done = false;
  try {
    fh = await fs.open(temp, 'w');
    if (!response.body) throw new UserError(`Could not download ${url}: the response has no body`, byHand());
    report(true);
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done: end, value: chunk } = await reader.read();
        if (end) break;
        received += chunk.byteLength;
        if (opts.bytes != null && received > opts.bytes) {
          throw new UserError(
            `Could not download ${url}: it sends more than the expected ${opts.bytes} bytes`,
            byHand('The URL may now serve a different file. '),
          );
        }
        hash.update(chunk);
        await fh.write(chunk);
        report(false);
      }
    } catch (e) {
      await reader.cancel().catch(() => {});
      if (opts.signal?.aborted) throw cancelled();
      if (e instanceof UserError) throw e;
      throw new UserError(
        `The download of ${url} broke off after ${received} bytes: ${networkReason(e)}`,
        byHand('Try again. '),
      );
    }
    if (opts.signal?.aborted) throw cancelled();
    report(true);
    await fh.close();
    fh = undefined;
    if (contentLength !== null && received !== contentLength) {
      throw new UserError(
        `The download of ${url} is incomplete: ${received} of ${contentLength} bytes`,
        byHand('Try again. '),
      );
    }
    const got = hash.digest('hex');
    if (got !== want) {
      throw new UserError(
        `The file downloaded from ${url} is not the expected one: its sha256 is ${got}, expected ${want}`,
        byHand('The server may have changed the file, or a proxy altered it; nothing was saved. '),
      );
    }
    await fs.rename(temp, destFile);
    done = true;
    return { file: destFile, sha256: got, bytes: received };
  } finally {
    if (fh) await fh.close().catch(() => {});
    if (!done) await fs.rm(temp, { force: true }).catch(() => {});
  }
}

/** `ECONNREFUSED`, `ENOTFOUND`, … from fetch's `cause`, else the message. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (e as Error).message ?? String(e);
}

export interface EnsureModelOptions extends CatalogOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
}

/**
 * The path of catalog entry `entryId`'s file in `modelsDir` (`<id>.onnx`): the present file when
 * its sha256 is right, otherwise a fresh verified download. Entries without a URL and sha256 are
 * refused with a UserError that says how to use a local file instead.
 */
export async function ensureCatalogModel(
  entryId: string,
  modelsDir: string,
  opts: EnsureModelOptions = {},
): Promise<string> {
  const entry = getCatalogEntry(entryId, opts);
  const source = catalogDownload(entry);
  const file = path.join(modelsDir, `${entry.id}.onnx`);
  const stat = await fs.stat(file).catch(() => null);
  if (stat?.isFile() && (await sha256File(file, { signal: opts.signal })) === source.sha256) return file;
  // absent, or a stale/damaged copy: the atomic rename replaces it only once the new one is verified
  await downloadModel(source.url, file, {
    sha256: source.sha256,
    bytes: source.bytes,
    onProgress: opts.onProgress,
    signal: opts.signal,
  });
  return file;
}
