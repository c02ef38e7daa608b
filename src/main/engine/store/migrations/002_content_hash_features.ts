/**
 * Schema v2, what v1 taught us:
 * - features are cached by image content hash (not by item), so identical images in several datasets
 *   share one row and re-adding a folder reuses its features; v1 rows are carried over through their
 *   items' hashes (rows of items without a hash cannot be keyed and are dropped: re-extraction redoes them);
 * - items remember format, size and mtime, so a re-scan can skip files that did not change;
 * - run_picks holds the Figure 5 strip (lowest inliers, hardest anomalies, strangest inliers);
 * - runs get a name, their extractor, timings, the label selection per dataset and a parent run
 *   (an evaluation groups its per-class runs). Metric matrices stay inside metrics JSON.
 */
import type Database from 'better-sqlite3';

export function up(db: Database.Database): void {
  db.exec(`
    ALTER TABLE items ADD COLUMN format TEXT;
    ALTER TABLE items ADD COLUMN bytes INTEGER;
    ALTER TABLE items ADD COLUMN mtime_ms REAL;
    CREATE INDEX items_dataset_label ON items(dataset_id, label);
    CREATE INDEX items_content_hash ON items(content_hash);

    CREATE TABLE features_by_hash (
      content_hash TEXT NOT NULL,
      extractor_id INTEGER NOT NULL REFERENCES extractors(id) ON DELETE CASCADE,
      dim          INTEGER NOT NULL CHECK (dim > 0),
      vector       BLOB NOT NULL CHECK (length(vector) = 4 * dim),
      created      TEXT NOT NULL,
      PRIMARY KEY (content_hash, extractor_id)
    );
    -- OR IGNORE: several items with one hash had one (identical) vector each; the first item's wins
    INSERT OR IGNORE INTO features_by_hash (content_hash, extractor_id, dim, vector, created)
      SELECT i.content_hash, f.extractor_id, length(f.vector) / 4, f.vector,
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
      FROM features f JOIN items i ON i.id = f.item_id
      WHERE i.content_hash IS NOT NULL AND length(f.vector) > 0 AND length(f.vector) % 4 = 0
      ORDER BY f.item_id;
    DROP TABLE features;
    ALTER TABLE features_by_hash RENAME TO features;
    -- the primary key leads with content_hash; counting and cascading go by extractor
    CREATE INDEX features_extractor ON features(extractor_id);

    ALTER TABLE runs ADD COLUMN name TEXT;
    ALTER TABLE runs ADD COLUMN extractor_id INTEGER REFERENCES extractors(id) ON DELETE SET NULL;
    ALTER TABLE runs ADD COLUMN timings TEXT CHECK (timings IS NULL OR json_valid(timings));
    ALTER TABLE runs ADD COLUMN selection TEXT CHECK (selection IS NULL OR json_valid(selection));
    ALTER TABLE runs ADD COLUMN parent_run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE;
    CREATE INDEX runs_parent ON runs(parent_run_id);

    CREATE TABLE run_picks (
      run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      grp     TEXT NOT NULL CHECK (grp IN ('lowest-inlier', 'hardest-anomaly', 'strangest-inlier')),
      rank    INTEGER NOT NULL,
      item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
      score   REAL NOT NULL,
      PRIMARY KEY (run_id, grp, rank)
    );
    CREATE INDEX run_picks_item ON run_picks(item_id);

    -- the primary key (run_id, item_id) already serves lookups by run; this one serves the ranked list
    CREATE INDEX scores_run_score ON scores(run_id, score DESC);
  `);
}
