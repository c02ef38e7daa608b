/**
 * Recursive listing of an image folder that stays inside it. Symbolic links are followed only when
 * their real path lies inside the root (a link to a file or folder outside it — another disk
 * folder, `/`, a home directory — is reported as a problem and never followed, so a dataset holds
 * only files below its folder, as thumbnails and extraction expect). Every folder is entered at most
 * once, identified by device + inode, so link loops, links to a parent and bind-mount cycles end as
 * problems instead of recursing forever. Real subfolders are walked before linked ones, so a folder
 * reachable both ways is listed under its real path; entries are visited in sorted order so the
 * outcome is the same on every run. Hidden entries (dot-prefixed) and OS junk are skipped silently.
 */
import type { BigIntStats, Dirent } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { CancelledError } from '../../util/errors';
import type { ScanProblem } from './types';

/** Files and folders the OS or file managers create next to images (compared in lower case). */
const OS_JUNK = new Set([
  'thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '__macosx', // resource forks left by unzipping macOS archives
  '@eadir', // Synology NAS thumbnails: real JPEGs that are not part of the data
  '$recycle.bin',
  'system volume information',
]);

export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || OS_JUNK.has(name.toLowerCase());
}

export interface WalkHandlers {
  /** A regular file, or a link to one. */
  onFile: (absPath: string, relPath: string) => void;
  onProblem: (problem: ScanProblem) => void;
}

interface PendingLink {
  abs: string;
  rel: string;
  /** Real path of the folder that holds the link. */
  parentReal: string;
}

/** Walk `rootReal` (an existing folder, symlinks resolved). Throws only CancelledError, or fs errors for the root itself. */
export async function walkFolder(
  rootReal: string,
  handlers: WalkHandlers,
  signal?: AbortSignal,
): Promise<void> {
  const visited = new Map<string, string>(); // dev:ino → relPath of the first visit ('' = root)
  const linkedFolders: PendingLink[] = [];
  const checkAbort = (): void => {
    if (signal?.aborted) throw new CancelledError('image folder scan');
  };
  const problem = (relPath: string, reason: string): void => handlers.onProblem({ relPath, reason });
  const describe = (rel: string): string => (rel === '' ? 'the scan root' : `"${rel}"`);

  const listDir = async (abs: string, rel: string, real: string): Promise<void> => {
    checkAbort();
    let entries: Dirent[];
    try {
      entries = await fs.promises.readdir(abs, { withFileTypes: true });
    } catch (e) {
      if (rel === '') throw e;
      problem(rel, folderErrorReason(e));
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      checkAbort();
      if (isIgnoredName(entry.name)) continue;
      const childAbs = path.join(abs, entry.name);
      const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isFile()) {
        handlers.onFile(childAbs, childRel);
      } else if (entry.isDirectory()) {
        await enterFolder(childAbs, childRel, path.join(real, entry.name));
      } else if (entry.isSymbolicLink()) {
        await followLink(childAbs, childRel, real);
      } else if (entry.isFIFO() || entry.isSocket() || entry.isCharacterDevice() || entry.isBlockDevice()) {
        problem(childRel, 'not a regular file (a pipe, socket or device)');
      } else {
        // some file systems do not report entry types in the listing
        await classifyUnknown(childAbs, childRel, real);
      }
    }
  };

  const enterFolder = async (abs: string, rel: string, real: string): Promise<void> => {
    let stat: BigIntStats;
    try {
      stat = await fs.promises.stat(abs, { bigint: true });
    } catch (e) {
      problem(rel, folderErrorReason(e));
      return;
    }
    const key = `${stat.dev}:${stat.ino}`;
    const first = visited.get(key);
    if (first !== undefined) {
      problem(rel, `same folder as ${describe(first)} (a bind mount?); scanned once`);
      return;
    }
    visited.set(key, rel);
    await listDir(abs, rel, real);
  };

  const followLink = async (abs: string, rel: string, parentReal: string): Promise<void> => {
    let stat: fs.Stats;
    let real: string;
    try {
      stat = await fs.promises.stat(abs);
      real = await fs.promises.realpath(abs);
    } catch (e) {
      problem(rel, await linkErrorReason(abs, e));
      return;
    }
    if (!isInside(rootReal, real)) {
      problem(rel, `links outside the dataset folder (to ${real}); not followed`);
      return;
    }
    if (stat.isFile()) handlers.onFile(abs, rel);
    // linked folders wait until all real folders are listed (see the module comment)
    else if (stat.isDirectory()) linkedFolders.push({ abs, rel, parentReal });
    else problem(rel, 'symbolic link to something that is not a regular file (a pipe, socket or device)');
  };

  const classifyUnknown = async (abs: string, rel: string, parentReal: string): Promise<void> => {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.lstat(abs);
    } catch (e) {
      problem(rel, folderErrorReason(e));
      return;
    }
    if (stat.isFile()) handlers.onFile(abs, rel);
    else if (stat.isDirectory()) await enterFolder(abs, rel, path.join(parentReal, path.basename(abs)));
    else if (stat.isSymbolicLink()) await followLink(abs, rel, parentReal);
    else problem(rel, 'not a regular file (a pipe, socket or device)');
  };

  const enterLinkedFolder = async ({ abs, rel, parentReal }: PendingLink): Promise<void> => {
    let real: string;
    let stat: BigIntStats;
    try {
      real = await fs.promises.realpath(abs);
      stat = await fs.promises.stat(real, { bigint: true });
    } catch (e) {
      problem(rel, await linkErrorReason(abs, e));
      return;
    }
    const key = `${stat.dev}:${stat.ino}`;
    const first = visited.get(key);
    if (parentReal === real || parentReal.startsWith(real.endsWith(path.sep) ? real : real + path.sep)) {
      const target = first !== undefined ? describe(first) : real;
      problem(rel, `symbolic link loop: points to ${target}, a folder that contains the link; not followed`);
    } else if (first !== undefined) {
      problem(rel, `symbolic link to ${describe(first)}, which is already scanned; not followed twice`);
    } else {
      visited.set(key, rel);
      await listDir(abs, rel, real);
    }
  };

  const rootStat = await fs.promises.stat(rootReal, { bigint: true });
  visited.set(`${rootStat.dev}:${rootStat.ino}`, '');
  await listDir(rootReal, '', rootReal);
  // links found inside linked folders are appended while this loop runs; each folder is entered
  // at most once, so the list runs dry
  for (let i = 0; i < linkedFolders.length; i++) {
    checkAbort();
    await enterLinkedFolder(linkedFolders[i]);
  }
}

/** True when `real` (a resolved path) is `root` or lies below it. */
export function isInside(root: string, real: string): boolean {
  const rel = path.relative(root, real);
  return rel === '' || (rel.split(path.sep)[0] !== '..' && !path.isAbsolute(rel));
}

function folderErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (cannot open this folder)';
  if (code === 'ENOENT') return 'vanished during the scan';
  return `cannot open this folder: ${(e as Error).message ?? String(e)}`;
}

async function linkErrorReason(abs: string, e: unknown): Promise<string> {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'symbolic link loop: the link (or a chain of links) points back to itself';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied (cannot follow this symbolic link)';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const target = await fs.promises.readlink(abs).catch(() => null);
    return `broken symbolic link${target === null ? '' : ` (its target "${target}" does not exist)`}`;
  }
  return `cannot follow this symbolic link: ${(e as Error).message ?? String(e)}`;
}
