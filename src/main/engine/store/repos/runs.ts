/** Runs (one training/scoring of a method on datasets) and their loss curves. */
import type Database from 'better-sqlite3';
import { fromJson, toJson } from '../json';

export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * Which labels of each dataset a run used, by role (e.g. inliers, contrast, test): a label list, a
 * description the caller chose (e.g. 'permutation'), or null for none. The store only keeps it.
 */
export type RunSelection = Record<string, string | string[] | null>;

export interface NewRun {
  name?: string | null;
  method: string;
  config: unknown;
  /** null for imported detectors, and once the dataset has been removed (the run's history stays) */
  inlierDatasetId: number | null;
  contrastDatasetId: number | null;
  testDatasetId: number | null;
  extractorId: number | null;
  selection: RunSelection;
  /** the evaluation this per-class run belongs to */
  parentRunId: number | null;
}

export interface RunRow extends Required<NewRun> {
  id: number;
  name: string | null;
  status: RunStatus;
  /** ISO times */
  started: string | null;
  finished: string | null;
  backend: string | null;
  metrics: unknown;
  /** e.g. { trainSeconds, evalSeconds } */
  timings: Record<string, number> | null;
  error: string | null;
}

export interface RunFinish {
  status: 'done' | 'failed' | 'cancelled';
  /** the backend that actually ran, when only known at the end (it is picked inside the worker) */
  backend?: string;
  metrics?: unknown;
  timings?: Record<string, number>;
  error?: string;
}

export interface LossRow {
  step: number;
  /** NaN when training diverged (SQLite stores NaN as NULL) */
  inlierNll: number;
  /** null for objectives without a contrast term */
  contrastNll: number | null;
}

type RawRun = Omit<RunRow, 'config' | 'selection' | 'metrics' | 'timings'> & {
  config: string;
  selection: string | null;
  metrics: string | null;
  timings: string | null;
};

const COLUMNS = `id, name, method, config, inlier_dataset_id AS inlierDatasetId,
  contrast_dataset_id AS contrastDatasetId, test_dataset_id AS testDatasetId, extractor_id AS extractorId,
  selection, parent_run_id AS parentRunId, status, started, finished, backend, metrics, timings, error`;

function parse(raw: RawRun): RunRow {
  return {
    ...raw,
    config: fromJson<unknown>(raw.config),
    selection: fromJson<RunSelection>(raw.selection) ?? {},
    metrics: fromJson<unknown>(raw.metrics),
    timings: fromJson<Record<string, number>>(raw.timings),
  };
}

export class RunRepo {
  private readonly createStmt: Database.Statement<[Record<string, unknown>], number>;
  private readonly startStmt: Database.Statement<[string, string | null, number]>;
  private readonly finishStmt: Database.Statement<[Record<string, unknown>]>;
  private readonly getStmt: Database.Statement<[number], RawRun>;
  private readonly listAllStmt: Database.Statement<[], RawRun>;
  private readonly listTopStmt: Database.Statement<[], RawRun>;
  private readonly listChildrenStmt: Database.Statement<[number], RawRun>;
  private readonly addLossStmt: Database.Statement<[number, number, number, number | null]>;
  private readonly lossesStmt: Database.Statement<
    [number],
    { step: number; inlierNll: number | null; contrastNll: number | null }
  >;
  private readonly removeStmt: Database.Statement<[number]>;
  private readonly setMetricsStmt: Database.Statement<[string | null, number]>;
  private readonly addLossBatch: (runId: number, rows: readonly LossRow[]) => void;

  constructor(db: Database.Database) {
    this.createStmt = db
      .prepare<[Record<string, unknown>], number>(
        `INSERT INTO runs (name, method, config, inlier_dataset_id, contrast_dataset_id, test_dataset_id,
                           extractor_id, selection, parent_run_id, status)
         VALUES (@name, @method, @config, @inlierDatasetId, @contrastDatasetId, @testDatasetId,
                 @extractorId, @selection, @parentRunId, 'queued')
         RETURNING id`,
      )
      .pluck();
    this.startStmt = db.prepare("UPDATE runs SET status = 'running', started = ?, backend = ? WHERE id = ?");
    this.finishStmt = db.prepare(`
      UPDATE runs SET status = @status, finished = @finished, backend = coalesce(@backend, backend), metrics = coalesce(@metrics, metrics),
                      timings = coalesce(@timings, timings), error = @error
      WHERE id = @id`);
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM runs WHERE id = ?`);
    // ids only grow, so id order is creation order (queued runs have no start time yet)
    this.listAllStmt = db.prepare(`SELECT ${COLUMNS} FROM runs ORDER BY id DESC`);
    this.listTopStmt = db.prepare(`SELECT ${COLUMNS} FROM runs WHERE parent_run_id IS NULL ORDER BY id DESC`);
    this.listChildrenStmt = db.prepare(
      `SELECT ${COLUMNS} FROM runs WHERE parent_run_id = ? ORDER BY id DESC`,
    );
    // OR REPLACE: a resumed or retried batch may resend steps it already wrote
    this.addLossStmt = db.prepare(
      'INSERT OR REPLACE INTO run_losses (run_id, step, inlier_nll, contrast_nll) VALUES (?, ?, ?, ?)',
    );
    this.lossesStmt = db.prepare(
      'SELECT step, inlier_nll AS inlierNll, contrast_nll AS contrastNll FROM run_losses WHERE run_id = ? ORDER BY step',
    );
    this.removeStmt = db.prepare('DELETE FROM runs WHERE id = ?');
    this.setMetricsStmt = db.prepare('UPDATE runs SET metrics = ? WHERE id = ?');
    this.addLossBatch = db.transaction((runId: number, rows: readonly LossRow[]) => {
      for (const r of rows) this.addLossStmt.run(runId, r.step, r.inlierNll, r.contrastNll);
    });
  }

  /** Record a new run in status 'queued'; returns its id. */
  create(run: NewRun): number {
    return this.createStmt.get({
      name: run.name ?? null,
      method: run.method,
      config: toJson(run.config ?? {}),
      inlierDatasetId: run.inlierDatasetId,
      contrastDatasetId: run.contrastDatasetId,
      testDatasetId: run.testDatasetId,
      extractorId: run.extractorId,
      selection: toJson(run.selection),
      parentRunId: run.parentRunId,
    })!;
  }

  /** The run starts, on `backend` (e.g. 'tfjs-node', 'wasm') if already known (else give it to finish). */
  start(id: number, backend: string | null = null): void {
    mustChange(this.startStmt.run(new Date().toISOString(), backend, id), id);
  }

  /** The run ended; backend, metrics and timings given here replace stored ones, absent ones are kept. */
  finish(id: number, end: RunFinish): void {
    const result = this.finishStmt.run({
      id,
      status: end.status,
      finished: new Date().toISOString(),
      backend: end.backend ?? null,
      metrics: toJson(end.metrics),
      timings: toJson(end.timings),
      error: end.error ?? null,
    });
    mustChange(result, id);
  }

  /** Replaces a finished run's metrics (e.g. the threshold the user picked later). */
  setMetrics(id: number, metrics: unknown): void {
    mustChange(this.setMetricsStmt.run(toJson(metrics), id), id);
  }

  get(id: number): RunRow | undefined {
    const raw = this.getStmt.get(id);
    return raw && parse(raw);
  }

  /**
   * Runs, newest first: all of them (no filter), only top-level runs (`parentRunId: null`), or the
   * per-class runs of one evaluation (`parentRunId: id`).
   */
  list(filter: { parentRunId?: number | null } = {}): RunRow[] {
    const raws =
      filter.parentRunId === undefined
        ? this.listAllStmt.all()
        : filter.parentRunId === null
          ? this.listTopStmt.all()
          : this.listChildrenStmt.all(filter.parentRunId);
    return raws.map(parse);
  }

  /** Delete a run with its losses, scores, picks, model and per-class child runs; returns whether it existed. */
  remove(id: number): boolean {
    return this.removeStmt.run(id).changes > 0;
  }

  /** Append loss-curve points in one transaction. */
  addLosses(runId: number, rows: readonly LossRow[]): void {
    this.addLossBatch(runId, rows);
  }

  losses(runId: number): LossRow[] {
    return this.lossesStmt.all(runId).map((r) => ({ ...r, inlierNll: r.inlierNll ?? NaN }));
  }
}

function mustChange(result: Database.RunResult, id: number): void {
  // a job updating a run that is gone is a bug in the caller, not something a user can fix
  if (result.changes === 0) throw new Error(`run ${id} does not exist`);
}
