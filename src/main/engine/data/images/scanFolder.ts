/**
 * Scan an image folder: find every file below the root (class = first subfolder), and check each
 * one by content and by a full decode, in parallel while the walk goes on (as many at once as there
 * are cores and as the decode memory budget of decodeMemory.ts admits). Bad files never fail the
 * scan; they come back as 'unreadable' items with a reason the user can act on. Only a root that
 * does not exist, is not a folder or cannot be read is an error.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pLimit from 'p-limit';
import { CancelledError, UserError } from '../../util/errors';
import { checkImageFile } from './checkImageFile';
import { DEFAULT_PIXEL_LIMIT } from './openImage';
import type { ScannedItem, ScanOptions, ScanProblem, ScanProgress, ScanResult } from './types';
import { walkFolder } from './walkFolder';

const PROGRESS_INTERVAL_MS = 100;

export async function scanFolder(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const { signal, onProgress } = opts;
  const pixelLimit = opts.pixelLimit ?? DEFAULT_PIXEL_LIMIT;
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? os.availableParallelism()));
  const cancelled = (): CancelledError => new CancelledError('image folder scan');
  if (signal?.aborted) throw cancelled();

  const rootReal = await resolveRoot(root);
  const items: ScannedItem[] = [];
  const problems: ScanProblem[] = [];
  const progress: ScanProgress = { found: 0, checked: 0, ok: 0, skipped: 0 };
  let lastReport = -Infinity;
  const report = (force = false): void => {
    if (!onProgress) return;
    const now = performance.now();
    if (!force && now - lastReport < PROGRESS_INTERVAL_MS) return;
    lastReport = now;
    onProgress({ ...progress });
  };

  const limit = pLimit(concurrency);
  const checks: Promise<void>[] = [];
  const check = async (absPath: string, relPath: string): Promise<void> => {
    // queued checks still start after a cancel; they end here at once, so nothing stays pending
    if (signal?.aborted) return;
    const item = await checkImageFile(absPath, relPath, pixelLimit, rootReal);
    items.push(item);
    progress.checked++;
    if (item.status === 'ok') progress.ok++;
    else progress.skipped++;
    report();
  };

  try {
    await walkFolder(
      rootReal,
      {
        onFile: (absPath, relPath) => {
          progress.found++;
          checks.push(limit(() => check(absPath, relPath)));
          report();
        },
        onProblem: (p) => problems.push(p),
      },
      signal,
    );
  } catch (e) {
    // let running checks finish (they hold open files) before reporting
    await Promise.allSettled(checks);
    // the walk throws fs errors only for the root itself; anything else (onProgress) passes through
    if (typeof (e as NodeJS.ErrnoException).code === 'string') throw rootError(root, e);
    throw e;
  }
  const failed = (await Promise.allSettled(checks)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason; // only onProgress can throw: checks turn every failure into an item
  if (signal?.aborted) throw cancelled();

  report(true);
  const byPath = (a: { relPath: string }, b: { relPath: string }): number =>
    a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0;
  return { root: rootReal, items: items.sort(byPath), problems: problems.sort(byPath) };
}

/** The root's real path, or a UserError saying why it cannot be scanned. */
async function resolveRoot(root: string): Promise<string> {
  let real: string;
  let stat: fs.Stats;
  try {
    real = await fs.promises.realpath(root);
    stat = await fs.promises.stat(real);
  } catch (e) {
    throw rootError(root, e);
  }
  if (!stat.isDirectory()) {
    throw new UserError(
      `Cannot scan "${root}": it is a file, not a folder`,
      'Choose the folder that holds the images (one subfolder per class, or the images directly).',
    );
  }
  return real;
}

function rootError(root: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const abs = path.resolve(root);
    return new UserError(
      `Cannot scan "${root}": folder not found${abs === root ? '' : ` (looked for ${abs})`}`,
      'Check the spelling of the path, and that the drive or network share holding it is connected.',
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(
      `Cannot scan "${root}": permission denied`,
      'Give your user account read access to the folder, or copy the images to a folder you own.',
    );
  }
  return new UserError(
    `Cannot scan "${root}": ${(e as Error).message ?? String(e)}`,
    'Check that the folder is readable, then try again.',
  );
}
