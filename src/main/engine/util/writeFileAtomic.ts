/**
 * Writes a user-named output file through a temporary file next to it and a rename, so a crash
 * or Ctrl-C never leaves a half-written model, score list or report; errors name the file and
 * what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError, userError } from './errors';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir))
    throw userError('output-folder-missing', `cannot write ${file}: folder ${dir} does not exist`, {
      path: file,
      folder: dir,
    });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new UserError(
      `cannot write ${file}: ${(e as Error).message}`,
      'check the path and that the folder is writable',
    );
  }
}
