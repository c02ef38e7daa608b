/**
 * Schema v1: the data model of docs/DESIGN.md as first written. Features are keyed by item here;
 * migration 2 re-keys them by content hash. Never edit this file once shipped: workspaces written by
 * it exist on users' disks, and migration 2 starts from exactly this shape.
 */
import type Database from 'better-sqlite3';

/** PRAGMA application_id of every CF Studio workspace ('CFST'), so foreign SQLite files are recognised. */
export const APPLICATION_ID = 0x43465354;

export function up(db: Database.Database): void {
  db.pragma(`application_id = ${APPLICATION_ID}`);
  db.exec(`
    CREATE TABLE datasets (
      id      INTEGER PRIMARY KEY,
      name    TEXT NOT NULL UNIQUE,
      kind    TEXT NOT NULL CHECK (kind IN ('image', 'tabular')),
      root    TEXT NOT NULL,
      created TEXT NOT NULL
    );

    CREATE TABLE items (
      id           INTEGER PRIMARY KEY,
      dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
      rel_path     TEXT NOT NULL,
      label        TEXT NOT NULL,
      content_hash TEXT,
      width        INTEGER,
      height       INTEGER,
      status       TEXT NOT NULL CHECK (status IN ('ok', 'unreadable')),
      reason       TEXT,
      UNIQUE (dataset_id, rel_path)
    );

    CREATE TABLE extractors (
      id         INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      file_hash  TEXT NOT NULL UNIQUE,
      path       TEXT NOT NULL,
      input_spec TEXT CHECK (input_spec IS NULL OR json_valid(input_spec))
    );

    CREATE TABLE features (
      item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
      extractor_id INTEGER NOT NULL REFERENCES extractors(id) ON DELETE CASCADE,
      vector       BLOB NOT NULL,
      PRIMARY KEY (item_id, extractor_id)
    );

    -- dataset references become NULL when a dataset is removed: the run's history (losses, metrics) stays
    CREATE TABLE runs (
      id                  INTEGER PRIMARY KEY,
      method              TEXT NOT NULL,
      config              TEXT NOT NULL CHECK (json_valid(config)),
      inlier_dataset_id   INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      contrast_dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      test_dataset_id     INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
      status              TEXT NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
      started             TEXT,
      finished            TEXT,
      backend             TEXT,
      metrics             TEXT CHECK (metrics IS NULL OR json_valid(metrics)),
      error               TEXT
    );

    CREATE TABLE run_losses (
      run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      step         INTEGER NOT NULL,
      inlier_nll   REAL,
      contrast_nll REAL,
      PRIMARY KEY (run_id, step)
    );

    CREATE TABLE scores (
      run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
      score   REAL NOT NULL,
      PRIMARY KEY (run_id, item_id)
    );
    -- without it, deleting one item (dataset removal cascades) scans every score of every run
    CREATE INDEX scores_item ON scores(item_id);

    CREATE TABLE models (
      run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
      format TEXT NOT NULL,
      bytes  BLOB,
      path   TEXT,
      sha256 TEXT NOT NULL,
      CHECK (bytes IS NOT NULL OR path IS NOT NULL)
    );
  `);
}
