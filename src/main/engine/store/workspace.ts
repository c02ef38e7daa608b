/**
 * A workspace: one SQLite file with every repository over one connection. Open it once per process
 * (or worker) and share it; repositories prepare their statements when the workspace opens.
 */
import type Database from 'better-sqlite3';
import { openDatabase, type OpenOptions } from './db';
import { DatasetRepo } from './repos/datasets';
import { ExtractorRepo } from './repos/extractors';
import { FeedbackRepo } from './repos/feedback';
import { FeatureRepo } from './repos/features';
import { ItemRepo } from './repos/items';
import { ModelRepo } from './repos/models';
import { RunRepo } from './repos/runs';
import { ScoreRepo } from './repos/scores';

export class Workspace {
  readonly datasets: DatasetRepo;
  readonly items: ItemRepo;
  readonly extractors: ExtractorRepo;
  readonly features: FeatureRepo;
  readonly runs: RunRepo;
  readonly scores: ScoreRepo;
  readonly models: ModelRepo;
  readonly feedback: FeedbackRepo;

  private constructor(
    readonly file: string,
    readonly db: Database.Database,
  ) {
    this.datasets = new DatasetRepo(db);
    this.items = new ItemRepo(db);
    this.extractors = new ExtractorRepo(db);
    this.features = new FeatureRepo(db);
    this.runs = new RunRepo(db);
    this.scores = new ScoreRepo(db);
    this.models = new ModelRepo(db);
    this.feedback = new FeedbackRepo(db);
  }

  /** Open (creating and migrating as needed) the workspace at `file`. */
  static open(file: string, options: OpenOptions = {}): Workspace {
    const db = openDatabase(file, options);
    try {
      return new Workspace(file, db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /**
   * Run `fn` in one transaction (nested repository batches become savepoints): all of its writes
   * land, or none do. `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** SQLite's PRAGMA integrity_check: 'ok', or its findings one per line. */
  integrityCheck(): string {
    return (this.db.pragma('integrity_check') as { integrity_check: string }[])
      .map((r) => r.integrity_check)
      .join('\n');
  }

  close(): void {
    if (!this.db.open) return;
    // lets SQLite refresh planner statistics for tables that changed a lot, as it recommends on close
    if (!this.db.readonly) this.db.pragma('optimize');
    this.db.close();
  }
}
