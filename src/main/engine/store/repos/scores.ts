/** Scores of a run's items (higher = more anomalous) and the run's Figure 5 picks. */
import type Database from 'better-sqlite3';

export type PickGroup = 'lowest-inlier' | 'hardest-anomaly' | 'strangest-inlier';

export interface ScoreInput {
  itemId: number;
  score: number;
}

/** A score with the item fields a ranked list shows. */
export interface ScoreRow extends ScoreInput {
  datasetId: number;
  relPath: string;
  label: string;
}

export interface PickInput {
  group: PickGroup;
  /** 0-based position within the group */
  rank: number;
  itemId: number;
  score: number;
}

export interface PickRow extends PickInput {
  datasetId: number;
  relPath: string;
  label: string;
}

const ITEM_COLUMNS = 'i.dataset_id AS datasetId, i.rel_path AS relPath, i.label';

/** SQLite turns NaN into NULL, which score's NOT NULL would reject with an unhelpful message. */
function checkScore(score: number, itemId: number): void {
  if (Number.isNaN(score)) throw new Error(`score of item ${itemId} is NaN`);
}

export class ScoreRepo {
  private readonly putStmt: Database.Statement<[number, number, number]>;
  private readonly listStmt: Database.Statement<[number], ScoreRow>;
  private readonly clearPicksStmt: Database.Statement<[number]>;
  private readonly putPickStmt: Database.Statement<[number, string, number, number, number]>;
  private readonly picksStmt: Database.Statement<[number], PickRow>;
  private readonly putBatch: (runId: number, rows: readonly ScoreInput[]) => void;
  private readonly putPicksBatch: (runId: number, picks: readonly PickInput[]) => void;

  constructor(db: Database.Database) {
    this.putStmt = db.prepare('INSERT OR REPLACE INTO scores (run_id, item_id, score) VALUES (?, ?, ?)');
    this.listStmt = db.prepare(`
      SELECT s.item_id AS itemId, s.score, ${ITEM_COLUMNS}
      FROM scores s JOIN items i ON i.id = s.item_id
      WHERE s.run_id = ? ORDER BY s.score DESC, s.item_id`);
    this.clearPicksStmt = db.prepare('DELETE FROM run_picks WHERE run_id = ?');
    this.putPickStmt = db.prepare(
      'INSERT INTO run_picks (run_id, grp, rank, item_id, score) VALUES (?, ?, ?, ?, ?)',
    );
    // groups in the order of the paper's figure
    this.picksStmt = db.prepare(`
      SELECT p.grp AS "group", p.rank, p.item_id AS itemId, p.score, ${ITEM_COLUMNS}
      FROM run_picks p JOIN items i ON i.id = p.item_id
      WHERE p.run_id = ?
      ORDER BY CASE p.grp WHEN 'lowest-inlier' THEN 0 WHEN 'hardest-anomaly' THEN 1 ELSE 2 END, p.rank`);
    this.putBatch = db.transaction((runId: number, rows: readonly ScoreInput[]) => {
      for (const { itemId, score } of rows) {
        checkScore(score, itemId);
        this.putStmt.run(runId, itemId, score);
      }
    });
    this.putPicksBatch = db.transaction((runId: number, picks: readonly PickInput[]) => {
      this.clearPicksStmt.run(runId);
      for (const p of picks) {
        checkScore(p.score, p.itemId);
        this.putPickStmt.run(runId, p.group, p.rank, p.itemId, p.score);
      }
    });
  }

  /** Store (or replace) item scores of a run in one transaction. */
  putMany(runId: number, rows: readonly ScoreInput[]): void {
    this.putBatch(runId, rows);
  }

  /** The run's scores, most anomalous first, with item path, label and dataset. */
  list(runId: number): ScoreRow[] {
    return this.listStmt.all(runId);
  }

  /** Replace the run's picks (they are recomputed as a whole). */
  putPicks(runId: number, picks: readonly PickInput[]): void {
    this.putPicksBatch(runId, picks);
  }

  /** The run's picks by group (figure order), then rank. */
  picks(runId: number): PickRow[] {
    return this.picksStmt.all(runId);
  }
}
