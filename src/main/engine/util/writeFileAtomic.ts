/**
 * Writes a user-named output file so that it is either the old file or the whole new one, and so
 * that nobody else can redirect the write: the one writer every output (models, score lists,
 * reports, exports) goes through.
 *
 * The bytes go to a temporary file with a random name in the target's folder, created with
 * O_CREAT|O_EXCL|O_NOFOLLOW (a link or file planted at that name makes the open fail instead of
 * being followed), then fsync, rename over the target, and fsync of the folder (so the rename
 * itself survives a power cut). A destination that is a symbolic link, a folder or a device is
 * refused, never replaced or written through. On any failure the temporary file is removed and the
 * old file is untouched.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { UserError, userError } from './errors';

/** Random names tried before giving up (a collision needs someone planting files at random names). */
const TEMP_NAME_ATTEMPTS = 8;

/** Exclusive create that never follows a link; O_NOFOLLOW is missing on Windows (0 there). */
const CREATE_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0);

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  if (!fs.existsSync(dir))
    throw userError('output-folder-missing', `cannot write ${file}: folder ${dir} does not exist`, {
      path: file,
      folder: dir,
    });
  const mode = checkDestination(file, target);

  const { fd, tmp } = createTempFile(file, dir, path.basename(target));
  let open = true;
  try {
    // the open cannot follow a link, but a check costs nothing and documents the invariant
    if (!fs.fstatSync(fd).isFile()) throw new Error('the temporary file is not a regular file');
    if (mode !== null) fs.fchmodSync(fd, mode); // a replaced file keeps its permissions
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    open = false;
    // again just before the rename: the destination may have been swapped for a link meanwhile
    checkDestination(file, target);
    fs.renameSync(tmp, target);
  } catch (e) {
    if (open) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    if (e instanceof UserError) throw e;
    throw writeError(file, dir, e);
  }
  syncFolder(dir);
}

/** The mode of an existing regular file at `target` (null when there is none); refuses anything else. */
function checkDestination(file: string, target: string): number | null {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw writeError(file, path.dirname(target), e);
  }
  if (stat.isFile()) return stat.mode & 0o7777;
  const what = stat.isSymbolicLink()
    ? `a symbolic link (to ${linkTarget(target)})`
    : stat.isDirectory()
      ? 'a folder'
      : 'not a regular file (a pipe, socket or device)';
  throw new UserError(
    `cannot write ${file}: it is ${what}; outputs are written only to regular files, never through links or over folders`,
    'choose another output path, or remove what is there first',
  );
}

function linkTarget(link: string): string {
  try {
    return fs.readlinkSync(link);
  } catch {
    return '?';
  }
}

/** A new, empty, exclusively created file next to the target: `.NAME.RANDOM.tmp` (hidden, so scans skip it). */
function createTempFile(file: string, dir: string, base: string): { fd: number; tmp: string } {
  for (let attempt = 0; ; attempt++) {
    const tmp = path.join(dir, `.${base}.${crypto.randomBytes(12).toString('hex')}.tmp`);
    try {
      return { fd: fs.openSync(tmp, CREATE_FLAGS, 0o666), tmp };
    } catch (e) {
      // EEXIST: something (maybe a planted link) holds that name; it is not ours, so leave it
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt + 1 < TEMP_NAME_ATTEMPTS) continue;
      throw writeError(file, dir, e);
    }
  }
}

/** Makes the rename durable; folders cannot be opened for fsync on Windows, where rename is durable anyway. */
function syncFolder(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here (Windows, some network file systems): the data itself was synced
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function writeError(file: string, dir: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
    return new UserError(
      `cannot write ${file}: permission denied (the folder ${dir} is not writable)`,
      'choose a folder you can write to',
    );
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new UserError(`cannot write ${file}: the disk is full`, 'free some space, or write elsewhere');
  if (code === 'EEXIST')
    return new UserError(
      `cannot write ${file}: could not create a temporary file in ${dir} (every name tried was taken)`,
      'check what else writes to that folder, or choose another one',
    );
  return new UserError(
    `cannot write ${file}: ${(e as Error).message}`,
    'check the path and that the folder is writable',
  );
}
