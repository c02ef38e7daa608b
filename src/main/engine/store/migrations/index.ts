/**
 * Schema migrations, applied in order. A workspace records its schema in PRAGMA user_version; opening
 * it applies each missing migration inside its own transaction (so a crash leaves it at the last
 * complete version) and refuses files written by a newer CF Studio instead of guessing at them.
 */
import type Database from 'better-sqlite3';
import { userError } from '../../util/errors';
import { APPLICATION_ID, up as initial } from './001_initial';
import { up as contentHashFeatures } from './002_content_hash_features';
import { up as typedRuns } from './003_typed_runs';
import { foreignKeysOff as runOwnersFkOff, up as runOwners } from './004_run_owners';
import { up as feedbackProgress } from './005_feedback_progress';

export interface Migration {
  version: number;
  name: string;
  up: (db: Database.Database) => void;
  /**
   * Run with foreign keys off (a table rebuild: dropping the old table must cascade nothing);
   * PRAGMA foreign_key_check must then find nothing before the migration commits.
   */
  foreignKeysOff?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: initial },
  { version: 2, name: 'content_hash_features', up: contentHashFeatures },
  { version: 3, name: 'typed_runs', up: typedRuns },
  { version: 4, name: 'run_owners', up: runOwners, foreignKeysOff: runOwnersFkOff },
  { version: 5, name: 'feedback_progress', up: feedbackProgress },
];

/** The schema version this build writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

export { APPLICATION_ID };

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Throws a UserError unless `db` is a CF Studio workspace (or an empty file) this build can read:
 * another program's SQLite file, or one written by a newer CF Studio.
 */
export function checkWorkspace(db: Database.Database): number {
  const version = schemaVersion(db);
  const appId = db.pragma('application_id', { simple: true }) as number;
  const tables = db
    .prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table'")
    .pluck()
    .get() as number;
  if ((appId !== 0 && appId !== APPLICATION_ID) || (version === 0 && tables > 0)) {
    throw userError(
      'workspace-foreign',
      `"${db.name}" is a SQLite database of another program, not a CF Studio workspace`,
      { file: db.name },
    );
  }
  if (version > SCHEMA_VERSION) {
    throw userError(
      'workspace-newer',
      `workspace "${db.name}" was written by a newer CF Studio (schema v${version}, this version knows v${SCHEMA_VERSION})`,
      { file: db.name, version, known: SCHEMA_VERSION },
    );
  }
  return version;
}

/**
 * Bring `db` up to `to` (default: the newest schema). Each migration runs in an IMMEDIATE transaction
 * that re-reads user_version first, so two processes opening one old workspace at once do not both
 * apply it (the second waits on busy_timeout, then finds the work done).
 */
export function migrate(db: Database.Database, options: { to?: number } = {}): { from: number; to: number } {
  const from = checkWorkspace(db);
  const target = options.to ?? SCHEMA_VERSION;
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > target) continue;
    // PRAGMA foreign_keys is a no-op inside a transaction: switched around it
    const fkWasOn = db.pragma('foreign_keys', { simple: true }) === 1;
    if (m.foreignKeysOff) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (schemaVersion(db) >= m.version) return;
        m.up(db);
        if (m.foreignKeysOff) {
          const broken = db.pragma('foreign_key_check') as unknown[];
          if (broken.length)
            throw new Error(`migration ${m.version} (${m.name}) broke ${broken.length} foreign keys`);
        }
        db.pragma(`user_version = ${m.version}`);
      }).immediate();
    } finally {
      if (m.foreignKeysOff && fkWasOn) db.pragma('foreign_keys = ON');
    }
  }
  return { from, to: schemaVersion(db) };
}
