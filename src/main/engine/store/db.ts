/**
 * Opening a workspace file: the connection settings every CF Studio process uses (WAL so the app,
 * the CLI and workers can read while one writes; foreign keys for cascades; a busy timeout instead
 * of instant "database is locked"), schema migration, and errors a user can act on.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError, userError } from '../util/errors';
import { checkWorkspace, migrate, SCHEMA_VERSION } from './migrations';

export interface OpenOptions {
  /** Open without writing: no folder creation, no migration; the file must exist at the current schema. */
  readonly?: boolean;
}

const WORKSPACE_FILE = 'workspace.cfstudio';
const APP_NAME = 'CF Studio';

/**
 * Where the desktop app keeps its workspace: Electron's app.getPath('userData') for an app named
 * "CF Studio" (computed here because the engine must not import electron), or $CFSTUDIO_WORKSPACE.
 * The parameters exist for tests.
 */
export function defaultWorkspacePath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.CFSTUDIO_WORKSPACE) return path.resolve(env.CFSTUDIO_WORKSPACE);
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(home, 'AppData', 'Roaming');
    return path.win32.join(appData, APP_NAME, WORKSPACE_FILE);
  }
  const appData =
    platform === 'darwin'
      ? path.posix.join(home, 'Library', 'Application Support')
      : env.XDG_CONFIG_HOME || path.posix.join(home, '.config');
  return path.posix.join(appData, APP_NAME, WORKSPACE_FILE);
}

function sqliteCode(err: unknown): string | undefined {
  return (err as { code?: unknown })?.code as string | undefined;
}

/** Open (creating if needed) and migrate the workspace `file`. */
export function openDatabase(file: string, options: OpenOptions = {}): Database.Database {
  const readonly = options.readonly ?? false;
  if (!readonly) {
    const dir = path.dirname(path.resolve(file));
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw new UserError(
        `cannot create the folder "${dir}" for workspace "${file}" (${sqliteCode(err) ?? String(err)})`,
        'Check that the folder is writable, or set CFSTUDIO_WORKSPACE to a file in a writable folder.',
      );
    }
  }

  let db: Database.Database;
  try {
    // the desktop app runs on Electron's ABI: scripts/start.mjs builds a separate binding for it
    const nativeBinding = process.env.CFSTUDIO_SQLITE_BINDING || undefined;
    db = new Database(file, { readonly, fileMustExist: readonly, nativeBinding });
  } catch (err) {
    throw cannotOpen(file, readonly, err);
  }
  try {
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    // SQLite reads the header lazily, so this is where a non-SQLite file shows up; checked before
    // anything writes, so that a file we refuse is left exactly as it was (WAL mode would stick)
    const version = checkWorkspace(db);
    if (readonly) {
      if (version < SCHEMA_VERSION) {
        throw new UserError(
          `workspace "${file}" uses schema v${version} and needs an upgrade to v${SCHEMA_VERSION}, which a read-only open cannot do`,
          'Open it once without read-only (any CF Studio command that writes) to upgrade it.',
        );
      }
    } else {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable under WAL except for the last commits on power loss, never corrupting
      db.pragma('synchronous = NORMAL');
      migrate(db);
    }
    return db;
  } catch (err) {
    db.close();
    if (err instanceof UserError) throw err;
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB') {
      throw userError('workspace-foreign', `"${file}" is not a CF Studio workspace (not a SQLite file)`, {
        file,
      });
    }
    if (code === 'SQLITE_CORRUPT') {
      throw new UserError(
        `workspace "${file}" is damaged (${(err as Error).message})`,
        'Restore it from a backup, or start a new workspace at another path.',
      );
    }
    if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM') {
      throw cannotOpen(file, readonly, err);
    }
    throw err;
  }
}

function cannotOpen(file: string, readonly: boolean, err: unknown): UserError {
  const why = (err as Error)?.message ?? String(err);
  if (readonly && !fs.existsSync(file)) {
    return new UserError(
      `workspace "${file}" does not exist`,
      'Check the path, or open it without read-only to create it.',
    );
  }
  return new UserError(
    `cannot open workspace "${file}" ${readonly ? 'for reading' : 'for writing'} (${why})`,
    'Check that the file and its folder exist and are writable by you (SQLite also writes -wal and -shm files next to it), or use a workspace at another path.',
  );
}
