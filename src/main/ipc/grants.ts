/**
 * Which paths the renderer may name (Electron security checklist: validate every IPC input).
 * A folder or file is readable only after the user picked it in a native dialog or dropped it
 * on the window; a file is writable only after the user chose it in a save dialog, and only
 * once (each save asks again: a path picked earlier cannot be overwritten later without the
 * user). Dataset roots already in the workspace are readable too (the user picked them in an
 * earlier session).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UserError } from '../engine/util/errors';

function real(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

export class PathGrants {
  private readonly readable = new Set<string>();
  private readonly writable = new Set<string>();

  grantRead(p: string): void {
    this.readable.add(real(p));
  }

  grantWrite(p: string): void {
    this.writable.add(path.resolve(p));
  }

  /** The real path of `p` if the user granted it for reading; throws otherwise. */
  checkRead(p: string, what: string): string {
    if (!path.isAbsolute(p))
      throw new UserError(
        `${what}: "${p}" is not an absolute path`,
        'choose the folder with the picker or drop it on the window',
      );
    const r = real(p);
    if (!this.readable.has(r))
      throw new UserError(
        `${what}: the app may only open folders and files you picked or dropped (${p})`,
        'choose it with "Choose folder…" or drop it on the window',
      );
    return r;
  }

  /** `p` if the user chose it in a save dialog and it was not written since; uses the grant up. */
  checkWrite(p: string, what: string): string {
    const r = path.resolve(p);
    if (!this.writable.delete(r))
      throw new UserError(
        `${what}: the app may only write where you chose to save (${p})`,
        'use the Export button again and pick a place',
      );
    return r;
  }
}
