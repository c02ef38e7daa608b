/**
 * Runs (one training, scoring, protocol or import) and their loss curves. Config, metrics and
 * selections are typed per run kind (../runRecords.ts): checked when written, parsed when read.
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { UserError } from '../../util/errors';
import { fromJson, toJson } from '../json';
import {
  jsonSafe,
  RUN_SCHEMAS,
  RunProgressSchema,
  RunSelectionsSchema,
  type RunConfigOf,
  type RunProgress,
  type RunKind,
  type RunMetricsOf,
  type RunSelections,
} from '../runRecords';
import { HEARTBEAT_MS, ownerGone, THIS_OWNER, type RunOwner } from './runOwner';

/** 'interrupted': left queued/running by a process that died (set when a workspace is opened). */
export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

interface RunBase {
  id: number;
  name: string | null;
  /** a method id ('cf', 'knn', …), or 'protocol:one-vs-rest' / 'protocol:dataset-vs-dataset' */
  method: string;
  status: RunStatus;
  /** ISO times */
  started: string | null;
  finished: string | null;
  backend: string | null;
  /** e.g. { trainSeconds, evalSeconds } */
  timings: Record<string, number> | null;
  error: string | null;
  /** the datasets of the selections (null once removed: the run's history stays) */
  inlierDatasetId: number | null;
  contrastDatasetId: number | null;
  testDatasetId: number | null;
  extractorId: number | null;
  selections: RunSelections;
  /** score runs: the run whose detector scored; protocol runs' children: the protocol run */
  parentRunId: number | null;
  /** a running run's latest progress (null once it ended, or before it reported) */
  progress: RunProgress | null;
}

/** A run as stored, typed by its kind. */
export type RunRow = {
  [K in RunKind]: RunBase & { kind: K; config: RunConfigOf<K>; metrics: RunMetricsOf<K> | null };
}[RunKind];

export type RunOfKind<K extends RunKind> = Extract<RunRow, { kind: K }>;

export type NewRun = {
  [K in RunKind]: {
    kind: K;
    name?: string | null;
    method: string;
    config: RunConfigOf<K>;
    extractorId: number | null;
    selections: RunSelections;
    parentRunId: number | null;
  };
}[RunKind];

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
  /** share of the contrast batch with log p > ε (CF); null without a contrast term or in older runs */
  contrastAboveEps?: number | null;
}

interface RawRun {
  id: number;
  name: string | null;
  kind: RunKind;
  method: string;
  config: string;
  selection: string | null;
  metrics: string | null;
  timings: string | null;
  status: RunStatus;
  started: string | null;
  finished: string | null;
  backend: string | null;
  error: string | null;
  inlierDatasetId: number | null;
  contrastDatasetId: number | null;
  testDatasetId: number | null;
  extractorId: number | null;
  parentRunId: number | null;
  progress: string | null;
}

const COLUMNS = `id, name, kind, method, config, inlier_dataset_id AS inlierDatasetId,
  contrast_dataset_id AS contrastDatasetId, test_dataset_id AS testDatasetId, extractor_id AS extractorId,
  selection, parent_run_id AS parentRunId, status, started, finished, backend, metrics, timings, error, progress`;

/** Checks `value` against `schema`; a failure is a bug in the writer or an edited workspace. */
function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new UserError(
    `${what} is not valid (${issue.path.join('.') || 'value'}: ${issue.message})`,
    'the workspace file may have been edited by hand or damaged; open a copy of it, or start a new workspace',
  );
}

function parse(raw: RawRun): RunRow {
  const s = RUN_SCHEMAS[raw.kind];
  if (!s) throw new UserError(`run ${raw.id} has an unknown kind "${String(raw.kind)}"`);
  return {
    id: raw.id,
    name: raw.name,
    kind: raw.kind,
    method: raw.method,
    status: raw.status,
    started: raw.started,
    finished: raw.finished,
    backend: raw.backend,
    error: raw.error,
    inlierDatasetId: raw.inlierDatasetId,
    contrastDatasetId: raw.contrastDatasetId,
    testDatasetId: raw.testDatasetId,
    extractorId: raw.extractorId,
    parentRunId: raw.parentRunId,
    // progress is advisory: an unreadable one is no progress
    progress:
      raw.progress === null ? null : (RunProgressSchema.safeParse(fromJson(raw.progress)).data ?? null),
    timings: fromJson<Record<string, number>>(raw.timings),
    selections: check(RunSelectionsSchema, fromJson(raw.selection) ?? {}, `the data of run ${raw.id}`),
    config: check(s.config as z.ZodType<unknown>, fromJson(raw.config), `the config of run ${raw.id}`),
    metrics:
      raw.metrics === null
        ? null
        : check(s.metrics as z.ZodType<unknown>, fromJson(raw.metrics), `the metrics of run ${raw.id}`),
  } as RunRow;
}

/** The dataset-id columns of a run, from its selections (they cascade when a dataset goes). */
function datasetColumns(sel: RunSelections) {
  const idOf = (r: RunSelections[keyof RunSelections]) => (r && r !== 'permutation' ? r.datasetId : null);
  return {
    inlierDatasetId: idOf(sel.inliers ?? sel.train),
    contrastDatasetId: idOf(sel.contrast),
    testDatasetId: idOf(sel.test ?? sel.scored ?? sel.anomalies),
  };
}

export class RunRepo {
  private readonly createStmt: Database.Statement<[Record<string, unknown>], number>;
  private readonly startStmt: Database.Statement<[string, string | null, number, number]>;
  private readonly finishStmt: Database.Statement<[Record<string, unknown>]>;
  private readonly getStmt: Database.Statement<[number], RawRun>;
  private readonly kindStmt: Database.Statement<[number], RunKind>;
  private readonly listAllStmt: Database.Statement<[], RawRun>;
  private readonly listTopStmt: Database.Statement<[], RawRun>;
  private readonly listChildrenStmt: Database.Statement<[number], RawRun>;
  private readonly addLossStmt: Database.Statement<[number, number, number, number | null, number | null]>;
  private readonly lossesStmt: Database.Statement<
    [number],
    { step: number; inlierNll: number | null; contrastNll: number | null; contrastAboveEps: number | null }
  >;
  private readonly progressStmt: Database.Statement<[string | null, number]>;
  private readonly removeStmt: Database.Statement<[number]>;
  private readonly setMetricsStmt: Database.Statement<[string | null, number]>;
  private readonly addLossBatch: (runId: number, rows: readonly LossRow[]) => void;
  private readonly heartbeatStmt: Database.Statement<[Record<string, unknown>]>;
  private readonly activeStmt: Database.Statement<[], ActiveRun>;
  private readonly interruptStmt: Database.Statement<[Record<string, unknown>]>;
  private heartbeatTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Database.Database,
    /** the owner recorded on runs created here (tests give another) */
    private readonly owner: RunOwner = THIS_OWNER,
  ) {
    this.createStmt = db
      .prepare<[Record<string, unknown>], number>(
        `INSERT INTO runs (name, kind, method, config, inlier_dataset_id, contrast_dataset_id, test_dataset_id,
                           extractor_id, selection, parent_run_id, status,
                           owner_pid, owner_host, owner_token, heartbeat_at)
         VALUES (@name, @kind, @method, @config, @inlierDatasetId, @contrastDatasetId, @testDatasetId,
                 @extractorId, @selection, @parentRunId, 'queued',
                 @ownerPid, @ownerHost, @ownerToken, @now)
         RETURNING id`,
      )
      .pluck();
    this.startStmt = db.prepare(
      "UPDATE runs SET status = 'running', started = ?, backend = ?, heartbeat_at = ? WHERE id = ?",
    );
    this.finishStmt = db.prepare(`
      UPDATE runs SET status = @status, finished = @finished, backend = coalesce(@backend, backend), metrics = coalesce(@metrics, metrics),
                      timings = coalesce(@timings, timings), error = @error, progress = NULL
      WHERE id = @id`);
    this.getStmt = db.prepare(`SELECT ${COLUMNS} FROM runs WHERE id = ?`);
    this.kindStmt = db.prepare<[number], RunKind>('SELECT kind FROM runs WHERE id = ?').pluck();
    // ids only grow, so id order is creation order (queued runs have no start time yet)
    this.listAllStmt = db.prepare(`SELECT ${COLUMNS} FROM runs ORDER BY id DESC`);
    this.listTopStmt = db.prepare(`SELECT ${COLUMNS} FROM runs WHERE parent_run_id IS NULL ORDER BY id DESC`);
    this.listChildrenStmt = db.prepare(
      `SELECT ${COLUMNS} FROM runs WHERE parent_run_id = ? ORDER BY id DESC`,
    );
    // OR REPLACE: a resumed or retried batch may resend steps it already wrote
    this.addLossStmt = db.prepare(
      'INSERT OR REPLACE INTO run_losses (run_id, step, inlier_nll, contrast_nll, contrast_above_eps) VALUES (?, ?, ?, ?, ?)',
    );
    this.lossesStmt = db.prepare(
      `SELECT step, inlier_nll AS inlierNll, contrast_nll AS contrastNll, contrast_above_eps AS contrastAboveEps
       FROM run_losses WHERE run_id = ? ORDER BY step`,
    );
    this.progressStmt = db.prepare("UPDATE runs SET progress = ? WHERE id = ? AND status = 'running'");
    this.removeStmt = db.prepare('DELETE FROM runs WHERE id = ?');
    // an owner that was taken for dead (a long stall) and comes back claims its runs again
    this.heartbeatStmt = db.prepare(`
      UPDATE runs SET heartbeat_at = @now,
        status = CASE WHEN status <> 'interrupted' THEN status WHEN started IS NULL THEN 'queued' ELSE 'running' END,
        finished = CASE WHEN status = 'interrupted' THEN NULL ELSE finished END,
        error = CASE WHEN status = 'interrupted' THEN NULL ELSE error END
      WHERE owner_token = @token AND status IN ('queued', 'running', 'interrupted')`);
    this.activeStmt = db.prepare(`
      SELECT id, owner_pid AS pid, owner_host AS host, owner_token AS token, heartbeat_at AS heartbeatAt
      FROM runs WHERE status IN ('queued', 'running')`);
    this.interruptStmt = db.prepare(`
      UPDATE runs SET status = 'interrupted', finished = @finished, error = @error
      WHERE id = @id AND status IN ('queued', 'running') AND owner_token IS @token AND heartbeat_at IS @heartbeatAt`);
    this.setMetricsStmt = db.prepare('UPDATE runs SET metrics = ? WHERE id = ?');
    this.addLossBatch = db.transaction((runId: number, rows: readonly LossRow[]) => {
      for (const r of rows)
        this.addLossStmt.run(runId, r.step, r.inlierNll, r.contrastNll, r.contrastAboveEps ?? null);
    });
  }

  /** Record a new run in status 'queued'; returns its id. */
  create(run: NewRun): number {
    const s = RUN_SCHEMAS[run.kind];
    const config = check(
      s.config as z.ZodType<unknown>,
      jsonSafe(run.config),
      `the config of a new ${run.kind} run`,
    );
    const selections = check(RunSelectionsSchema, run.selections, `the data of a new ${run.kind} run`);
    const id = this.createStmt.get({
      name: run.name ?? null,
      kind: run.kind,
      method: run.method,
      config: toJson(config),
      ...datasetColumns(selections),
      extractorId: run.extractorId,
      selection: toJson(selections),
      parentRunId: run.parentRunId,
      ownerPid: this.owner.pid,
      ownerHost: this.owner.host,
      ownerToken: this.owner.token,
      now: Date.now(),
    })!;
    this.startHeartbeat();
    return id;
  }

  /** The run starts, on `backend` (e.g. 'ort-cpu') if already known (else give it to finish). */
  start(id: number, backend: string | null = null): void {
    const now = Date.now();
    mustChange(this.startStmt.run(new Date(now).toISOString(), backend, now, id), id);
    this.startHeartbeat();
  }

  /**
   * The run ended; backend, metrics and timings given here replace stored ones, absent ones are
   * kept. Metrics are checked against the run kind's schema.
   */
  finish(id: number, end: RunFinish): void {
    const metrics = end.metrics === undefined ? undefined : this.checkMetrics(id, end.metrics);
    const result = this.finishStmt.run({
      id,
      status: end.status,
      finished: new Date().toISOString(),
      backend: end.backend ?? null,
      metrics: toJson(metrics),
      timings: toJson(end.timings),
      error: end.error ?? null,
    });
    mustChange(result, id);
  }

  /**
   * This owner is alive: refreshes the heartbeat of its active runs (and takes back any of them
   * that another process marked 'interrupted' meanwhile). Returns how many runs it holds.
   */
  heartbeat(now = Date.now()): number {
    return this.heartbeatStmt.run({ now, token: this.owner.token }).changes;
  }

  /** Beats every HEARTBEAT_MS while this owner has active runs (never keeps the process alive). */
  private startHeartbeat(): void {
    if (this.heartbeatTimer) return;
    this.heartbeatTimer = setInterval(() => {
      if (!this.db.open || this.heartbeat() === 0) {
        clearInterval(this.heartbeatTimer!);
        this.heartbeatTimer = null;
      }
    }, HEARTBEAT_MS);
    this.heartbeatTimer.unref();
  }

  /**
   * Marks as 'interrupted' the runs left 'queued' or 'running' by an owner that is gone (a dead
   * process on this machine, a heartbeat older than STALE_MS, or no owner recorded); a run whose
   * owner is alive, in this process or another, is left alone. Returns the ids it marked.
   */
  interruptAbandoned(now = Date.now(), alive?: (pid: number) => boolean): number[] {
    const marked: number[] = [];
    for (const r of this.activeStmt.all()) {
      if (!ownerGone(r, now, this.owner, alive)) continue;
      const who =
        r.pid === null ? 'a CF Studio process older than this workspace schema' : `process ${r.pid}`;
      const changed = this.interruptStmt.run({
        id: r.id,
        token: r.token,
        heartbeatAt: r.heartbeatAt,
        finished: new Date(r.heartbeatAt ?? now).toISOString(),
        error: `interrupted: ${who}${r.host ? ` on ${r.host}` : ''} stopped before the run finished`,
      }).changes;
      // unchanged: its owner beat or finished it since it was read
      if (changed) marked.push(r.id);
    }
    return marked;
  }

  /** Replaces a finished run's metrics (e.g. the threshold the user picked later). */
  setMetrics(id: number, metrics: unknown): void {
    mustChange(this.setMetricsStmt.run(toJson(this.checkMetrics(id, metrics)), id), id);
  }

  private checkMetrics(id: number, metrics: unknown): unknown {
    const kind = this.kindStmt.get(id);
    // a job updating a run that is gone is a bug in the caller, not something a user can fix
    if (!kind) throw new Error(`run ${id} does not exist`);
    return check(
      RUN_SCHEMAS[kind].metrics as z.ZodType<unknown>,
      jsonSafe(metrics),
      `the metrics of run ${id}`,
    );
  }

  get(id: number): RunRow | undefined {
    const raw = this.getStmt.get(id);
    return raw && parse(raw);
  }

  /**
   * Runs, newest first: all of them (no filter), only top-level runs (`parentRunId: null`), or the
   * children of one run (`parentRunId: id`: a protocol's per-class runs, a detector's score runs).
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

  /** Delete a run with its losses, scores, picks, model and child runs; returns whether it existed. */
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

  /** A running run's latest progress, for views that follow it (ignored once the run ended). */
  setProgress(id: number, progress: RunProgress | null): void {
    this.progressStmt.run(toJson(progress), id);
  }
}

interface ActiveRun {
  id: number;
  pid: number | null;
  host: string | null;
  token: string | null;
  heartbeatAt: number | null;
}

function mustChange(result: Database.RunResult, id: number): void {
  // a job updating a run that is gone is a bug in the caller, not something a user can fix
  if (result.changes === 0) throw new Error(`run ${id} does not exist`);
}
