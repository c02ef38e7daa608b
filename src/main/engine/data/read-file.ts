/**
 * Reading an input file the user named, with errors that say which file and what to do
 * (not found, is a folder, no permission) instead of a bare ENOENT.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors';

/** Throw a UserError unless `file` exists and is a file (not a folder). */
export function checkInputFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (e) {
    throw fileError(file, e);
  }
  if (stat.isDirectory()) {
    throw new UserError(
      `Cannot read "${file}": it is a folder, not a file`,
      'Pass the path of a data file (.csv, .tsv, .txt or .npy) inside that folder.',
    );
  }
}

/** The whole file as bytes; throws UserError for the usual reasons a path can't be read. */
export function readInputFile(file: string): Buffer {
  checkInputFile(file);
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw fileError(file, e);
  }
}

function fileError(file: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const abs = path.resolve(file);
    return new UserError(
      `Cannot read "${file}": file not found${abs === file ? '' : ` (looked for ${abs})`}`,
      'Check the spelling and the folder; relative paths are resolved from the current working directory.',
    );
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(
      `Cannot read "${file}": permission denied`,
      'Make the file readable for your user, or copy it somewhere you can read.',
    );
  }
  return new UserError(`Cannot read "${file}": ${(e as Error).message}`);
}
