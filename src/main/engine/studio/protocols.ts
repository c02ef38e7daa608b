/**
 * The paper's image-level protocols over workspace datasets (METHOD §4), each method trained
 * and evaluated as its own recorded run, grouped under one parent run that holds the table:
 *
 *   one-vs-rest         for each class c: inliers = train items labelled c, contrast = the contrast
 *                       selection, test = the whole test set with class c negative and every other
 *                       class positive → AUROC per class, the mean, and the Table 2 matrix
 *                       (row = inlier class, column = anomaly class).
 *   dataset-vs-dataset  inliers = one selection, test = held-back inliers + another selection.
 */
import type { DetectorConfig } from '../detector/config';
import { CONTRAST_METHODS, type Method } from '../detector/methods';
import { mean } from '../util/stats';
import type { ExtractorRow, NewRun, Workspace } from '../store';
import type { TrainProgress } from '../train/trainer';
import { CancelledError, UserError } from '../util/errors';
import { takeRows, vstack, type Matrix } from '../util/matrix';
import type { EvalMetrics, PickWithItem, TestSet } from './evaluateRun';
import { extractorSpec } from './extractors';
import { extractSelections, type ExtractProgress } from './extraction';
import { recordTrainingRun } from './recordTraining';
import { loadSelection, selectionLabel, toRef, type LoadedSelection, type Selection } from './selection';
import { detectorConfigFor, type TrainOptions } from './trainOptions';

export interface ProtocolProgress {
  phase: 'protocol';
  /** 0-based index of the current (class, method) run and how many there are */
  index: number;
  total: number;
  inlier: string;
  method: Method;
  train: TrainProgress | null;
}

export interface ProtocolRunResult {
  runId: number;
  method: Method;
  inlier: string;
  metrics: EvalMetrics;
  picks: PickWithItem[];
  seconds: number;
}

export interface OneVsRestResult {
  parentRunId: number;
  protocol: 'one-vs-rest';
  classes: string[];
  inlierClasses: string[];
  methods: Method[];
  runs: ProtocolRunResult[];
  /** method → mean AUROC over the inlier classes */
  meanAuroc: Record<string, number>;
  /** method → Table 2 rows (one per inlier class, columns = `classes`, NaN on the diagonal) */
  matrix: Record<string, number[][]>;
}

export interface ProtocolOptions {
  onProgress?: (p: ProtocolProgress) => void;
  onExtract?: (selection: string, p: ExtractProgress) => void;
  onRunDone?: (r: ProtocolRunResult) => void;
  signal?: AbortSignal;
}

/** Each method's detector configuration from the user's settings (image features: the extractor decides L2). */
function configFor(options: TrainOptions, extractor: ExtractorRow): (m: Method) => DetectorConfig {
  const pre = extractorSpec(extractor).l2Normalize ? 'l2' : 'standardize';
  return (m) => detectorConfigFor(m, options, pre);
}

function rowsWhere(m: Matrix, keep: (i: number) => boolean): Matrix {
  const idx: number[] = [];
  for (let i = 0; i < m.rows; i++) if (keep(i)) idx.push(i);
  return takeRows(m, idx);
}

export async function oneVsRest(
  ws: Workspace,
  input: {
    train: Selection;
    contrast: Selection;
    test: Selection;
    methods: Method[];
    classes?: string[] | null;
    options: TrainOptions;
    extractor: ExtractorRow;
    name?: string;
  },
  opts: ProtocolOptions = {},
): Promise<OneVsRestResult> {
  await extractSelections(ws, [input.test, input.train, input.contrast], input.extractor, {
    signal: opts.signal,
    onProgress: opts.onExtract,
  });
  const config = configFor(input.options, input.extractor);
  const train = loadSelection(ws, input.train, input.extractor.id, 'training data');
  const contrast = loadSelection(ws, input.contrast, input.extractor.id, 'contrast data');
  const test = loadSelection(ws, input.test, input.extractor.id, 'test data');
  const testClasses = [...new Set(test.items.map((i) => i.label))].sort();
  const trainClasses = new Set(train.items.map((i) => i.label));
  const inlierClasses = input.classes ?? testClasses.filter((c) => trainClasses.has(c));
  for (const c of inlierClasses) {
    if (!trainClasses.has(c) || !testClasses.includes(c)) {
      throw new UserError(
        `one-vs-rest: class "${c}" must be in both the training data (${selectionLabel(input.train)}) and the test data (${selectionLabel(input.test)})`,
        `classes in both: ${testClasses.filter((t) => trainClasses.has(t)).join(', ') || '(none)'}`,
      );
    }
  }
  if (testClasses.length < 2 || inlierClasses.length === 0) {
    throw new UserError(
      'one-vs-rest needs a labelled test set with at least two classes (one subfolder per class) and a training set with the same class names',
      `test labels: ${testClasses.join(', ') || '(none)'}; training labels: ${[...trainClasses].join(', ') || '(none)'}`,
    );
  }
  const jobs: RunJob[] = [];
  for (const c of inlierClasses) {
    const inl = rowsWhere(train.features, (i) => train.items[i].label === c);
    const testSet: TestSet & { selection: Selection } = {
      selection: input.test,
      items: test.items,
      features: test.features,
      isAnomaly: test.items.map((i) => i.label !== c),
      group: test.items.map((i) => (i.label === c ? '' : i.label)),
    };
    for (const method of input.methods)
      jobs.push({
        inlier: c,
        method,
        inliers: { selection: { ...input.train, labels: [c] }, features: inl },
        test: testSet,
      });
  }
  const { parentRunId, runs } = await runJobs(
    ws,
    {
      kind: 'protocol',
      name: input.name ?? `one-vs-rest ${selectionLabel(input.test)}`,
      method: 'protocol:one-vs-rest',
      config: {
        protocol: 'one-vs-rest',
        methods: input.methods,
        classes: inlierClasses,
        perMethod: Object.fromEntries(input.methods.map((m) => [m, config(m)])),
      },
      extractorId: input.extractor.id,
      selections: { train: toRef(input.train), contrast: toRef(input.contrast), test: toRef(input.test) },
      parentRunId: null,
    },
    jobs,
    { config, contrast, extractor: input.extractor },
    opts,
  );
  const meanAuroc: Record<string, number> = {};
  const matrix: Record<string, number[][]> = {};
  for (const m of input.methods) {
    const mine = runs.filter((r) => r.method === m);
    meanAuroc[m] = mean(mine.map((r) => r.metrics.auroc));
    matrix[m] = mine.map((r) =>
      testClasses.map((a) => (a === r.inlier ? NaN : (r.metrics.perGroup[a] ?? NaN))),
    );
  }
  const result: OneVsRestResult = {
    parentRunId,
    protocol: 'one-vs-rest',
    classes: testClasses,
    inlierClasses,
    methods: input.methods,
    runs,
    meanAuroc,
    matrix,
  };
  ws.runs.finish(parentRunId, {
    status: 'done',
    metrics: {
      runs: runs.map((r) => ({ runId: r.runId, method: r.method, inlier: r.inlier, auroc: r.metrics.auroc })),
      meanAuroc,
      classes: testClasses,
      inlierClasses,
      matrix,
    },
  });
  return result;
}

export interface DatasetVsDatasetResult {
  parentRunId: number;
  protocol: 'dataset-vs-dataset';
  methods: Method[];
  runs: ProtocolRunResult[];
  auroc: Record<string, number>;
}

export async function datasetVsDataset(
  ws: Workspace,
  input: {
    inliers: Selection;
    /** held-back inliers for testing; null = hold back `testShare` of `inliers` */
    inlierTest: Selection | null;
    anomalies: Selection;
    contrast: Selection;
    methods: Method[];
    options: TrainOptions;
    extractor: ExtractorRow;
    testShare?: number;
    name?: string;
  },
  opts: ProtocolOptions = {},
): Promise<DatasetVsDatasetResult> {
  await extractSelections(
    ws,
    [input.inliers, input.anomalies, input.contrast, ...(input.inlierTest ? [input.inlierTest] : [])],
    input.extractor,
    { signal: opts.signal, onProgress: opts.onExtract },
  );
  const config = configFor(input.options, input.extractor);
  const inl = loadSelection(ws, input.inliers, input.extractor.id, 'inlier data');
  const ano = loadSelection(ws, input.anomalies, input.extractor.id, 'anomaly data');
  const contrast = loadSelection(ws, input.contrast, input.extractor.id, 'contrast data');
  let trainInl: Matrix;
  let testInl: LoadedSelection;
  if (input.inlierTest) {
    trainInl = inl.features;
    testInl = loadSelection(ws, input.inlierTest, input.extractor.id, 'inlier test data');
  } else {
    // a seeded split by item: every other item in a fixed shuffled order would also do; we use
    // the content hash order, which is stable across machines and rescans
    const order = inl.items.map((it, i) => ({ i, h: it.contentHash! })).sort((a, b) => (a.h < b.h ? -1 : 1));
    const nTest = Math.max(1, Math.round(order.length * (input.testShare ?? 0.2)));
    const testIdx = new Set(order.slice(0, nTest).map((o) => o.i));
    trainInl = rowsWhere(inl.features, (i) => !testIdx.has(i));
    const ti = [...testIdx].sort((a, b) => a - b);
    testInl = {
      selection: input.inliers,
      items: ti.map((i) => inl.items[i]),
      features: takeRows(inl.features, ti),
    };
  }
  const items = [...testInl.items, ...ano.items];
  const features = vstack([testInl.features, ano.features]);
  const anomalyName = selectionLabel(input.anomalies);
  const testSet: TestSet = {
    items,
    features,
    isAnomaly: items.map((_, i) => i >= testInl.items.length),
    group: items.map((_, i) => (i >= testInl.items.length ? anomalyName : '')),
  };
  const jobs: RunJob[] = input.methods.map((method) => ({
    inlier: selectionLabel(input.inliers),
    method,
    inliers: { selection: input.inliers, features: trainInl },
    test: { ...testSet, selection: input.anomalies },
  }));
  const { parentRunId, runs } = await runJobs(
    ws,
    {
      kind: 'protocol',
      name: input.name ?? `${selectionLabel(input.inliers)} vs ${anomalyName}`,
      method: 'protocol:dataset-vs-dataset',
      config: {
        protocol: 'dataset-vs-dataset',
        methods: input.methods,
        ...(input.inlierTest ? {} : { testShare: input.testShare ?? 0.2 }),
        perMethod: Object.fromEntries(input.methods.map((m) => [m, config(m)])),
      },
      extractorId: input.extractor.id,
      selections: {
        inliers: toRef(input.inliers),
        ...(input.inlierTest ? { inlierTest: toRef(input.inlierTest) } : {}),
        anomalies: toRef(input.anomalies),
        contrast: toRef(input.contrast),
      },
      parentRunId: null,
    },
    jobs,
    { config, contrast, extractor: input.extractor },
    opts,
  );
  const auroc = Object.fromEntries(runs.map((r) => [r.method, r.metrics.auroc]));
  ws.runs.finish(parentRunId, {
    status: 'done',
    metrics: {
      runs: runs.map((r) => ({ runId: r.runId, method: r.method, inlier: r.inlier, auroc: r.metrics.auroc })),
      meanAuroc: auroc,
    },
  });
  return { parentRunId, protocol: 'dataset-vs-dataset', methods: input.methods, runs, auroc };
}

interface RunJob {
  inlier: string;
  method: Method;
  inliers: { selection: Selection; features: Matrix };
  test: TestSet & { selection: Selection };
}

/**
 * Records a parent run, then trains and evaluates each job as its own run under it; the
 * parent ends 'failed' or 'cancelled' with the first error (finished runs stay recorded).
 */
async function runJobs(
  ws: Workspace,
  parent: NewRun,
  jobs: RunJob[],
  shared: { config: (m: Method) => DetectorConfig; contrast: LoadedSelection; extractor: ExtractorRow },
  opts: ProtocolOptions,
): Promise<{ parentRunId: number; runs: ProtocolRunResult[] }> {
  const parentRunId = ws.runs.create(parent);
  ws.runs.start(parentRunId, null);
  const runs: ProtocolRunResult[] = [];
  try {
    for (const [index, job] of jobs.entries()) {
      const t0 = performance.now();
      const progress = (train: TrainProgress | null) =>
        opts.onProgress?.({
          phase: 'protocol',
          index,
          total: jobs.length,
          inlier: job.inlier,
          method: job.method,
          train,
        });
      progress(null);
      const r = await recordTrainingRun(
        ws,
        {
          name: `${job.method} · ${job.inlier}`,
          config: shared.config(job.method),
          inliers: job.inliers,
          contrast: CONTRAST_METHODS.includes(job.method)
            ? { selection: shared.contrast.selection, features: shared.contrast.features }
            : null,
          extractor: shared.extractor,
          test: job.test,
          parentRunId,
        },
        { onProgress: progress, signal: opts.signal },
      );
      const done: ProtocolRunResult = {
        runId: r.runId,
        method: job.method,
        inlier: job.inlier,
        metrics: r.evalMetrics!,
        picks: r.picks,
        seconds: (performance.now() - t0) / 1000,
      };
      runs.push(done);
      opts.onRunDone?.(done);
    }
  } catch (e) {
    ws.runs.finish(parentRunId, {
      status: e instanceof CancelledError ? 'cancelled' : 'failed',
      error: (e as Error).message,
    });
    throw e;
  }
  return { parentRunId, runs };
}
