/**
 * Detectors on tables (CSV or .npy feature files), without a workspace: train one, score a
 * file with one, and the paper's tabular protocol (eval/tabularProtocol.ts). Tables are
 * standardized by default; rows labelled ≠ 0 never train.
 */
import { checkSameColumns, loadTable, requireRows, type Table } from '../data/table';
import { checkContrast, methodInfo, type Method } from '../detector/methods';
import { inputColumns } from '../detector/preprocess';
import { scoreDetector } from '../detector/scoreDetector';
import type { Detector } from '../detector/types';
import { auroc } from '../eval/auroc';
import { runTabularProtocol, type ProtocolResult } from '../eval/tabularProtocol';
import { runTrainJob } from '../jobs/runTrainJob';
import { loadDetector, saveDetector } from '../model/cfdet';
import type { TrainProgress } from '../train/trainer';
import { toCsv } from '../util/csv';
import { UserError, userError } from '../util/errors';
import { takeRows } from '../util/matrix';
import { appVersion } from '../util/version';
import { writeFileAtomic } from '../util/writeFileAtomic';
import { decisionFor, type DecisionAsk } from './threshold';
import { detectorConfigFor, type TrainOptions } from './trainOptions';

export type TablePurpose = 'training' | 'scoring' | 'evaluation';

export function readTable(file: string, labelColumn: string | undefined, purpose: TablePurpose): Table {
  const t = loadTable(file, { labelColumn, requireLabel: purpose === 'evaluation' });
  requireRows(
    t,
    purpose === 'scoring' ? 1 : 2,
    purpose === 'scoring' ? 'score' : purpose === 'training' ? 'train' : 'evaluate',
  );
  return t;
}

/** Inlier rows of a table: all rows, or those labelled 0 when a label column is named. */
export function inlierRows(t: Table): { table: Table; leftOut: number } {
  if (!t.labels) return { table: t, leftOut: 0 };
  const idx: number[] = [];
  t.labels.forEach((l, i) => l === 0 && idx.push(i));
  if (idx.length < 2)
    throw new UserError(
      `${t.source} has ${idx.length} rows labelled 0 (normal); training needs at least 2`,
      'check the label column',
    );
  return { table: { ...t, x: takeRows(t.x, idx), labels: null }, leftOut: t.x.rows - idx.length };
}

export interface TableTrainRequest {
  method: Method;
  inliers: string;
  /** a table with the same columns, 'permutation', or none */
  contrast?: string;
  labelColumn?: string;
  options: TrainOptions;
  /** where the .cfdet goes */
  out: string;
}

export interface TableTrainOutcome {
  detector: Detector;
  out: string;
  notes: string[];
}

export async function trainOnTable(
  req: TableTrainRequest,
  hooks: { signal?: AbortSignal; onProgress?: (p: TrainProgress) => void } = {},
): Promise<TableTrainOutcome> {
  const notes: string[] = [];
  const { table: inl, leftOut } = inlierRows(readTable(req.inliers, req.labelColumn, 'training'));
  if (leftOut > 0)
    notes.push(`${leftOut} rows of ${inl.source} are labelled anomalous and are left out of training`);
  const info = methodInfo(req.method);
  checkContrast(req.method, req.contrast !== undefined);
  let contrast: Table | 'permutation' | null = null;
  if (info.needsContrast) {
    if (req.contrast === 'permutation') contrast = 'permutation';
    else {
      contrast = readTable(req.contrast!, req.labelColumn, 'training');
      checkSameColumns(inl, contrast);
    }
  } else if (req.contrast !== undefined)
    notes.push(`${info.label} does not use contrast data; ${req.contrast} is not used`);
  // training runs in a worker thread: the caller keeps its progress display and Ctrl-C responsive
  const det = await runTrainJob(
    {
      inliers: inl.x,
      columns: inl.columns,
      contrast: contrast === null || contrast === 'permutation' ? contrast : contrast.x,
      source: inl.source,
    },
    detectorConfigFor(req.method, req.options, 'standardize'),
    { onProgress: hooks.onProgress, signal: hooks.signal, appVersion: appVersion() },
  );
  saveDetector(det, req.out);
  return { detector: det, out: req.out, notes: [...notes, ...det.meta.notes] };
}

export interface TableScoreOutcome {
  rows: number;
  method: Method;
  /** AUROC when the label column holds both classes */
  auroc: number | null;
  out: string;
  /** the threshold used for is_anomaly, how it was chosen, and how many rows it flags */
  decision: { threshold: number; rule: string; flagged: number } | null;
}

/** Scores a table with a detector file; writes row, score[, log_prob][, label] to `out` in row order. */
export async function scoreTable(
  req: {
    model: string;
    input: string;
    labelColumn?: string;
    out: string;
  } & DecisionAsk,
): Promise<TableScoreOutcome> {
  const det = loadDetector(req.model);
  const t = readTable(req.input, req.labelColumn, 'scoring');
  const cols = inputColumns(det.preprocessing);
  if (t.x.cols !== cols.length) {
    throw new UserError(
      `${req.input} has ${t.x.cols} feature columns, the detector ${req.model} was trained on ${cols.length} (${cols.slice(0, 8).join(', ')}${cols.length > 8 ? ', …' : ''})`,
      req.labelColumn
        ? 'score a file with the same columns as the training file'
        : 'if the file has a label column, name it as the label column',
    );
  }
  if (!t.columns.every((c, i) => c === cols[i]) && !t.columns.every((c, i) => c === `f${i}`)) {
    const i = t.columns.findIndex((c, j) => c !== cols[j]);
    throw new UserError(
      `${req.input}: column ${i + 1} is '${t.columns[i]}', the detector expects '${cols[i]}'`,
      'use the same columns, in the same order, as the training file',
    );
  }
  const { score, logProb } = await scoreDetector(det, t.x, req.input);
  const decision = decisionFor(det, req, score);
  const rows: (number | string | boolean)[][] = [];
  for (let i = 0; i < score.length; i++)
    rows.push([
      i + 1,
      score[i],
      ...(logProb ? [logProb[i]] : []),
      ...(decision ? [score[i] >= decision.threshold] : []),
      ...(t.labels ? [t.labels[i]] : []),
    ]);
  writeFileAtomic(
    req.out,
    toCsv(
      [
        'row',
        'score',
        ...(logProb ? ['log_prob'] : []),
        ...(decision ? ['is_anomaly'] : []),
        ...(t.labels ? [t.labelColumn!] : []),
      ],
      rows,
    ),
  );
  const both = t.labels && t.labels.some((l) => l !== 0) && t.labels.some((l) => l === 0);
  return {
    rows: score.length,
    method: det.method,
    auroc: both ? auroc(score, t.labels!) : null,
    out: req.out,
    decision: decision && {
      ...decision,
      flagged: Array.from(score).filter((s) => s >= decision.threshold).length,
    },
  };
}

/** The paper's tabular protocol on a labelled table (see eval/tabularProtocol.ts). */
export async function evaluateTable(
  req: {
    data: string;
    labelColumn: string;
    methods: Method[];
    seeds: number[];
    trainShare?: number;
    options: TrainOptions;
  },
  hooks: {
    signal?: AbortSignal;
    onProgress?: (p: TrainProgress) => void;
    onMethodDone?: (m: Method, seed: number, auroc: number) => void;
  } = {},
): Promise<ProtocolResult> {
  if (req.methods.length === 0) throw userError('invalid-input', 'give at least one method', {});
  const t = readTable(req.data, req.labelColumn, 'evaluation');
  return runTabularProtocol(
    t,
    req.methods,
    req.seeds,
    (m, seed) => detectorConfigFor(m, { ...req.options, seed }, 'standardize'),
    {
      signal: hooks.signal,
      onProgress: hooks.onProgress,
      appVersion: appVersion(),
      trainShare: req.trainShare,
      onMethodDone: hooks.onMethodDone,
    },
  );
}
