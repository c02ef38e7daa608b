/**
 * The UserError for a path that cannot be read (not found, a folder, no permission), naming the
 * file and what the user can do, instead of a bare ENOENT.
 */
import { UserError } from '../util/errors';

/** `what` names the file's role in the message, e.g. 'the model' or 'the input spec'. */
export function fileReadError(file: string, e: unknown, what = 'the file'): UserError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new UserError(
      `Cannot read ${what} "${file}": file not found`,
      'Check the spelling and the folder; relative paths are resolved from the current working directory.',
    );
  }
  if (code === 'EISDIR') {
    return new UserError(`Cannot read ${what} "${file}": it is a folder`, 'Choose the file inside it.');
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new UserError(
      `Cannot read ${what} "${file}": permission denied`,
      'Make the file readable for your user, or copy it somewhere you can read.',
    );
  }
  return new UserError(`Cannot read ${what} "${file}": ${(e as Error).message}`);
}
