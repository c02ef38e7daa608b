/**
 * Schema v5: what the analyst's loop needs.
 * - run_feedback: the marks an analyst puts on a run's images — 'normal' (a false alarm) or
 *   'anomaly' (a confirmed find) — one per (run, item), kept when the run is re-opened, dropped
 *   with the run or the item;
 * - run_losses.contrast_above_eps: the share of contrast points above ε at each logged step
 *   (what tells a user the contrast term of CF is doing anything);
 * - runs.progress: a running run's latest progress (phase, step, total, rate, ETA), written by
 *   whichever process trains it, so a run view opened anywhere can follow it live.
 */
import type Database from 'better-sqlite3';

export function up(db: Database.Database): void {
  db.exec(`
    CREATE TABLE run_feedback (
      run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
      mark    TEXT NOT NULL CHECK (mark IN ('normal', 'anomaly')),
      marked  TEXT NOT NULL,
      PRIMARY KEY (run_id, item_id)
    );
    CREATE INDEX run_feedback_item ON run_feedback(item_id);
    ALTER TABLE run_losses ADD COLUMN contrast_above_eps REAL;
    ALTER TABLE runs ADD COLUMN progress TEXT CHECK (progress IS NULL OR json_valid(progress));
  `);
}
