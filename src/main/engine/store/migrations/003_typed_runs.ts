/**
 * Schema v3: typed run records (../runRecords.ts).
 * - runs get a `kind` column: train | score | protocol | import (v2 kept it inside the JSON,
 *   or implied it by the method name);
 * - selections become { datasetId, labels, datasetName } per role instead of display strings
 *   such as "photos:dusk,red" (which cannot say whether "dusk,red" is one label or two): each
 *   string is resolved against the dataset the run's columns name and that dataset's labels;
 * - config and metrics take the shape of their kind's schema (score runs lose their `kind`
 *   field, imports their `imported` flag, protocols say which protocol they ran and list their
 *   runs with method and AUROC).
 * Every converted record is checked with the v3 schemas; a record that does not convert stops
 * the migration (the workspace stays at v2) with the run's id and the field.
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { UserError } from '../../util/errors';
import {
  jsonSafe,
  RUN_SCHEMAS,
  RunSelectionsSchema,
  type RunKind,
  type RunSelections,
  type SelectionRef,
} from '../runRecords';

type Json = Record<string, unknown>;

interface V2Run {
  id: number;
  method: string;
  config: string;
  selection: string | null;
  metrics: string | null;
  inlierDatasetId: number | null;
  contrastDatasetId: number | null;
  testDatasetId: number | null;
  parentRunId: number | null;
}

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

export function up(db: Database.Database): void {
  db.exec(`
    ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'train'
      CHECK (kind IN ('train', 'score', 'protocol', 'import'));
    CREATE INDEX runs_kind ON runs(kind);
  `);
  const datasets = new Map(
    (db.prepare('SELECT id, name FROM datasets').all() as { id: number; name: string }[]).map((d) => [
      d.id,
      d.name,
    ]),
  );
  const labelsStmt = db.prepare('SELECT DISTINCT label FROM items WHERE dataset_id = ?').pluck();
  const labelCache = new Map<number, Set<string>>();
  const labelsOf = (datasetId: number) => {
    let s = labelCache.get(datasetId);
    if (!s) labelCache.set(datasetId, (s = new Set(labelsStmt.all(datasetId) as string[])));
    return s;
  };
  const runs = db
    .prepare(
      `SELECT id, method, config, selection, metrics, inlier_dataset_id AS inlierDatasetId,
              contrast_dataset_id AS contrastDatasetId, test_dataset_id AS testDatasetId,
              parent_run_id AS parentRunId FROM runs ORDER BY id`,
    )
    .all() as V2Run[];
  const byId = new Map(runs.map((r) => [r.id, r]));
  const update = db.prepare('UPDATE runs SET kind = ?, config = ?, selection = ?, metrics = ? WHERE id = ?');

  /** "name" or "name:labels" → a reference, resolved against `datasetId` (else by name). */
  const ref = (text: unknown, datasetId: number | null): SelectionRef | undefined => {
    if (typeof text !== 'string' || text === '') return undefined;
    let id = datasetId !== null && datasets.has(datasetId) ? datasetId : null;
    let name = id !== null ? datasets.get(id)! : null;
    if (name === null || !(text === name || text.startsWith(`${name}:`))) {
      // the column is gone (dataset removed) or names another dataset: the longest name that fits
      const fits = [...datasets].filter(([, n]) => text === n || text.startsWith(`${n}:`));
      fits.sort((a, b) => b[1].length - a[1].length);
      [id, name] = fits[0] ?? [null, null];
    }
    if (name === null) {
      // a dataset removed before this migration: keep what the text says
      const cut = text.indexOf(':');
      return cut < 0
        ? { datasetId: null, labels: null, datasetName: text }
        : { datasetId: null, labels: text.slice(cut + 1).split(','), datasetName: text.slice(0, cut) };
    }
    if (text === name) return { datasetId: id, labels: null, datasetName: name };
    return {
      datasetId: id,
      labels: splitLabels(text.slice(name.length + 1), labelsOf(id!)),
      datasetName: name,
    };
  };

  for (const r of runs) {
    const config = obj(JSON.parse(r.config));
    const metrics = r.metrics === null ? null : obj(JSON.parse(r.metrics));
    const sel = obj(r.selection === null ? {} : JSON.parse(r.selection));
    const kind: RunKind =
      config.kind === 'score'
        ? 'score'
        : r.method.startsWith('protocol:')
          ? 'protocol'
          : metrics?.imported === true
            ? 'import'
            : 'train';
    const selections: RunSelections = {};
    let newConfig: unknown = config;
    let newMetrics: unknown = metrics;
    if (kind === 'train') {
      selections.inliers = ref(sel.inliers, r.inlierDatasetId);
      selections.contrast =
        sel.contrast === 'permutation' ? 'permutation' : ref(sel.contrast, r.contrastDatasetId);
      selections.test = ref(sel.test, r.testDatasetId);
      if (metrics)
        newMetrics = { evaluation: null, notes: [], contrastAboveEps: null, eps: null, ...metrics };
    } else if (kind === 'score') {
      selections.scored = ref(sel.scored, r.testDatasetId);
      newConfig = { parentRunId: config.parentRunId };
      if (metrics) newMetrics = { scored: metrics.scored };
    } else if (kind === 'import') {
      newConfig = { detector: Object.keys(config).length ? config : null };
      if (metrics) {
        newMetrics = { ...metrics };
        delete (newMetrics as Json).imported;
      }
    } else {
      const protocol = r.method.slice('protocol:'.length);
      if (protocol === 'one-vs-rest') {
        selections.train = ref(sel.train, r.inlierDatasetId);
        selections.contrast = ref(sel.contrast, r.contrastDatasetId);
        selections.test = ref(sel.test, r.testDatasetId);
        if (metrics)
          newMetrics = {
            runs: metrics.runs,
            meanAuroc: metrics.meanAuroc,
            classes: metrics.classes,
            inlierClasses: metrics.inlierClasses,
            matrix: metrics.matrix,
          };
      } else {
        selections.inliers = ref(sel.inliers, r.inlierDatasetId);
        selections.anomalies = ref(sel.anomalies, r.testDatasetId);
        selections.contrast = ref(sel.contrast, r.contrastDatasetId);
        const heldBack = typeof sel.inlierTest === 'string' && /^held-back [\d.]+$/.test(sel.inlierTest);
        if (!heldBack) selections.inlierTest = ref(sel.inlierTest, null);
        else config.testShare = Number((sel.inlierTest as string).slice('held-back '.length));
        if (metrics) {
          const childIds = Array.isArray(metrics.runs) ? (metrics.runs as number[]) : [];
          newMetrics = {
            runs: childIds.map((cid) => {
              const child = byId.get(cid);
              const cm = obj(child?.metrics ? JSON.parse(child.metrics) : null);
              return {
                runId: cid,
                method: child?.method ?? 'cf',
                inlier: typeof sel.inliers === 'string' ? sel.inliers : '',
                auroc: typeof cm.auroc === 'number' ? cm.auroc : null,
              };
            }),
            meanAuroc: metrics.auroc ?? {},
          };
        }
      }
      newConfig = { protocol, ...config };
    }
    for (const k of Object.keys(selections) as (keyof RunSelections)[])
      if (selections[k] === undefined) delete selections[k];

    const s = RUN_SCHEMAS[kind];
    const checked = (schema: z.ZodType<unknown>, v: unknown, what: string) => {
      const p = schema.safeParse(jsonSafe(v));
      if (p.success) return p.data;
      const issue = p.error.issues[0];
      throw new UserError(
        `cannot upgrade this workspace: run ${r.id}'s ${what} does not convert (${issue.path.join('.') || 'value'}: ${issue.message})`,
        'the workspace file was left as it was; please report this with the file',
      );
    };
    update.run(
      kind,
      JSON.stringify(checked(s.config as z.ZodType<unknown>, newConfig, 'config')),
      JSON.stringify(checked(RunSelectionsSchema, selections, 'data selection')),
      newMetrics === null
        ? null
        : JSON.stringify(checked(s.metrics as z.ZodType<unknown>, newMetrics, 'metrics')),
      r.id,
    );
  }
}

/**
 * Splits a v2 label list ("a,b" meant labels a and b, but a label may itself contain commas)
 * into the dataset's labels: the whole text when it is a label, else the shortest run of
 * comma-separated pieces that forms a known label, piece by piece.
 */
export function splitLabels(text: string, known: ReadonlySet<string>): string[] {
  if (known.has(text)) return [text];
  const pieces = text.split(',');
  const out: string[] = [];
  let i = 0;
  while (i < pieces.length) {
    let j = i + 1;
    while (j <= pieces.length && !known.has(pieces.slice(i, j).join(','))) j++;
    // no known label starts here: keep the piece as written (the label may have been removed)
    if (j > pieces.length) j = i + 1;
    out.push(pieces.slice(i, j).join(','));
    i = j;
  }
  return out;
}
