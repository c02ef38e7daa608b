/**
 * Schema v4: every run records which process owns it, so that a run left 'queued' or 'running'
 * by a process that died (kill -9, a crash, power loss) can be told apart from one still in
 * progress in another process, and be marked 'interrupted' when a workspace is opened
 * (../repos/runs.ts, `interruptAbandoned`).
 * - status may be 'interrupted'. SQLite cannot change a CHECK constraint in place, so the runs
 *   table is rebuilt the documented way (https://www.sqlite.org/lang_altertable.html#otheralter):
 *   new table, copy, drop, rename, indexes again. The migration runs with foreign keys off (see
 *   `foreignKeysOff`) so that dropping the old table cascades nothing, and the runner checks
 *   PRAGMA foreign_key_check before it commits.
 * - owner_pid, owner_host: the process that created the run; owner_token: a random id of that
 *   process's thread (a reused pid is not the same owner); heartbeat_at: when the owner last said
 *   it was alive (ms since the epoch).
 */
import type Database from 'better-sqlite3';

/** The runner turns foreign keys off around this migration (the table rebuild needs it). */
export const foreignKeysOff = true;

const OLD_CHECK = "CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'))";
const NEW_CHECK = "CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'))";

export function up(db: Database.Database): void {
  const table = db
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'runs'")
    .pluck()
    .get() as string | undefined;
  if (!table || !table.includes(OLD_CHECK))
    throw new Error('schema v4: the runs table does not have the v3 status constraint');
  const indexes = db
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL")
    .pluck()
    .all() as string[];
  // the stored CREATE statement, columns added by ALTER TABLE included, with the wider constraint
  const created = table.replace(/^CREATE TABLE\s+("runs"|runs)\s*\(/i, 'CREATE TABLE runs_v4 (');
  if (created === table) throw new Error('schema v4: unexpected CREATE TABLE statement for runs');
  db.exec(created.replace(OLD_CHECK, NEW_CHECK));
  db.exec('INSERT INTO runs_v4 SELECT * FROM runs');
  db.exec('DROP TABLE runs');
  db.exec('ALTER TABLE runs_v4 RENAME TO runs');
  for (const sql of indexes) db.exec(sql);
  db.exec(`
    ALTER TABLE runs ADD COLUMN owner_pid INTEGER;
    ALTER TABLE runs ADD COLUMN owner_host TEXT;
    ALTER TABLE runs ADD COLUMN owner_token TEXT;
    ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
    CREATE INDEX runs_active ON runs(status) WHERE status IN ('queued', 'running');
  `);
}
