/** The analyst's marks on a run's images: 'normal' (a false alarm) or 'anomaly' (a confirmed find). */
import type Database from 'better-sqlite3';

export type FeedbackMark = 'normal' | 'anomaly';

export interface FeedbackRow {
  runId: number;
  itemId: number;
  mark: FeedbackMark;
  /** ISO time */
  marked: string;
}

export class FeedbackRepo {
  private readonly putStmt: Database.Statement<[number, number, string, string]>;
  private readonly clearStmt: Database.Statement<[number, number]>;
  private readonly listStmt: Database.Statement<[number], FeedbackRow>;
  private readonly setBatch: (runId: number, itemIds: readonly number[], mark: FeedbackMark | null) => void;

  constructor(db: Database.Database) {
    this.putStmt = db.prepare(
      'INSERT OR REPLACE INTO run_feedback (run_id, item_id, mark, marked) VALUES (?, ?, ?, ?)',
    );
    this.clearStmt = db.prepare('DELETE FROM run_feedback WHERE run_id = ? AND item_id = ?');
    this.listStmt = db.prepare(
      'SELECT run_id AS runId, item_id AS itemId, mark, marked FROM run_feedback WHERE run_id = ? ORDER BY item_id',
    );
    this.setBatch = db.transaction((runId: number, itemIds: readonly number[], mark: FeedbackMark | null) => {
      const now = new Date().toISOString();
      for (const id of itemIds) {
        if (mark === null) this.clearStmt.run(runId, id);
        else this.putStmt.run(runId, id, mark, now);
      }
    });
  }

  /** Marks (or, with null, unmarks) items of a run, in one transaction. */
  set(runId: number, itemIds: readonly number[], mark: FeedbackMark | null): void {
    this.setBatch(runId, itemIds, mark);
  }

  list(runId: number): FeedbackRow[] {
    return this.listStmt.all(runId);
  }
}
