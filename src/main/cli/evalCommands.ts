/**
 * `cfstudio eval`: the paper's protocols — tabular (a labelled table, permutation contrast),
 * one-vs-rest and dataset-vs-dataset on workspace images. Thin adapters over engine/studio.
 */
import path from 'node:path';
import {
  datasetVsDataset,
  evaluateTable,
  flowTrainingBackend,
  METHOD_LABELS,
  methodInfo,
  oneVsRest,
  selectionLabel,
  type Method,
  type ProtocolProgress,
  type ProtocolRunResult,
} from '../engine/studio';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';
import {
  dataArg,
  extractorArg,
  extractProgress,
  logger,
  out,
  pct,
  withWorkspace,
  type WorkspaceOpts,
} from './context';
import { trainOptionsOf, type ModelOpts } from './options';
import { progressPrinter } from './progress';

function protocolProgress(quiet: boolean) {
  const train = progressPrinter(quiet);
  return (p: ProtocolProgress) => {
    if (p.train)
      train({ ...p.train, phase: `${p.index + 1}/${p.total} ${p.method} · ${p.inlier} · ${p.train.phase}` });
  };
}

function runDoneLogger(quiet?: boolean) {
  const log = logger(quiet);
  return (r: ProtocolRunResult) =>
    log(
      `${r.inlier} · ${METHOD_LABELS[r.method]}: AUROC ${pct(r.metrics.auroc)} (${r.seconds.toFixed(0)} s, run ${r.runId})`,
    );
}

/** JSON with NaN (the matrix diagonal) as null. */
function writeJson(file: string, v: unknown) {
  writeFileAtomic(
    file,
    JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? null : x), 2) + '\n',
  );
}

export async function cmdEvalTable(
  o: ModelOpts & {
    data: string;
    labelColumn: string;
    methods: Method[];
    seeds: number;
    json?: string;
    quiet?: boolean;
    trainShare?: number;
  },
  signal: AbortSignal,
): Promise<void> {
  const log = logger(o.quiet);
  const seeds = Array.from({ length: o.seeds }, (_, i) => (o.seed ?? 0) + i);
  if (o.methods.some((m) => methodInfo(m).flow)) {
    const b = await flowTrainingBackend();
    log(`backend: ${b.name} (${b.detail})`);
  }
  const res = await evaluateTable(
    {
      data: o.data,
      labelColumn: o.labelColumn,
      methods: o.methods,
      seeds,
      trainShare: o.trainShare,
      options: trainOptionsOf(o),
    },
    {
      signal,
      onProgress: progressPrinter(!!o.quiet),
      onMethodDone: (m, seed, a) => log(`${m} seed ${seed}: AUROC ${(a * 100).toFixed(1)}`),
    },
  );
  const w = Math.max(...o.methods.map((m) => METHOD_LABELS[m].length));
  out(
    `${path.basename(o.data)}: ${res.rows} rows, ${res.features} features, ${res.anomalies} anomalies; train = ${res.trainShare * 100}% of normal rows; seeds ${seeds.join(',')}`,
  );
  out(`${'method'.padEnd(w)}  AUROC (mean ± std)`);
  for (const r of res.methods)
    out(`${METHOD_LABELS[r.method].padEnd(w)}  ${(r.mean * 100).toFixed(1)} ± ${(r.std * 100).toFixed(1)}`);
  for (const r of res.methods) for (const n of r.notes) log(`note (${r.method}): ${n}`);
  if (o.json) writeJson(o.json, res);
}

export function cmdEvalOneVsRest(
  o: ModelOpts &
    WorkspaceOpts & {
      data: string;
      train?: string;
      contrast?: string;
      classes?: string;
      methods: Method[];
      extractor?: string;
      json?: string;
      matrix?: boolean;
    },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const q = { quiet: o.quiet, signal };
    const test = await dataArg(ws, o.data, 'test data', q);
    const train = o.train ? await dataArg(ws, o.train, 'training data', q) : test;
    const contrast = o.contrast ? await dataArg(ws, o.contrast, 'contrast', q) : train;
    const ex = await extractorArg(ws, o.extractor, q);
    const res = await oneVsRest(
      ws,
      {
        test,
        train,
        contrast,
        methods: o.methods,
        classes: o.classes
          ? o.classes
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean)
          : null,
        options: trainOptionsOf(o),
        extractor: ex,
      },
      {
        signal,
        onProgress: protocolProgress(!!o.quiet),
        onExtract: extractProgress(o.quiet),
        onRunDone: runDoneLogger(o.quiet),
      },
    );
    const w = Math.max(6, ...res.inlierClasses.map((c) => c.length));
    // column heads are the short method names: the long labels would not line up
    const cols = res.methods.map((m) => methodInfo(m).shortLabel.padStart(10)).join('');
    out(
      `one-vs-rest AUROC (%) · test ${selectionLabel(test)} · train ${selectionLabel(train)} · contrast ${selectionLabel(contrast)} · extractor ${ex.name}`,
    );
    out(`${'inlier'.padEnd(w)}${cols}`);
    for (const c of res.inlierClasses)
      out(
        `${c.padEnd(w)}${res.methods.map((m) => pct(res.runs.find((r) => r.inlier === c && r.method === m)!.metrics.auroc).padStart(10)).join('')}`,
      );
    out(`${'mean'.padEnd(w)}${res.methods.map((m) => pct(res.meanAuroc[m]).padStart(10)).join('')}`);
    if (o.matrix) {
      for (const m of res.methods) {
        out(`\n${METHOD_LABELS[m]}: AUROC (%) of inlier class (row) vs anomaly class (column)`);
        out(`${''.padEnd(w)}${res.classes.map((c) => c.slice(0, 7).padStart(8)).join('')}`);
        res.matrix[m].forEach((row, i) =>
          out(`${res.inlierClasses[i].padEnd(w)}${row.map((v) => pct(v).padStart(8)).join('')}`),
        );
      }
    }
    out(`\nrecorded as run ${res.parentRunId}; Figure 5 picks of each run: cfstudio runs show RUN`);
    if (o.json) writeJson(o.json, { ...res, extractor: ex.name });
  });
}

export function cmdEvalDatasetVsDataset(
  o: ModelOpts &
    WorkspaceOpts & {
      inliers: string;
      inlierTest?: string;
      anomalies: string;
      contrast: string;
      methods: Method[];
      extractor?: string;
      json?: string;
    },
  signal: AbortSignal,
) {
  return withWorkspace(o, async (ws) => {
    const q = { quiet: o.quiet, signal };
    const inliers = await dataArg(ws, o.inliers, 'inliers', q);
    const anomalies = await dataArg(ws, o.anomalies, 'anomalies', q);
    const contrast = await dataArg(ws, o.contrast, 'contrast', q);
    const inlierTest = o.inlierTest ? await dataArg(ws, o.inlierTest, 'inlier test data', q) : null;
    const ex = await extractorArg(ws, o.extractor, q);
    const res = await datasetVsDataset(
      ws,
      {
        inliers,
        anomalies,
        contrast,
        inlierTest,
        methods: o.methods,
        options: trainOptionsOf(o),
        extractor: ex,
      },
      {
        signal,
        onProgress: protocolProgress(!!o.quiet),
        onExtract: extractProgress(o.quiet),
        onRunDone: runDoneLogger(o.quiet),
      },
    );
    out(
      `dataset-vs-dataset AUROC (%): inliers ${selectionLabel(inliers)} vs anomalies ${selectionLabel(anomalies)}`,
    );
    for (const m of res.methods) out(`${METHOD_LABELS[m].padEnd(12)}${pct(res.auroc[m])}`);
    out(`recorded as run ${res.parentRunId}`);
    if (o.json) writeJson(o.json, res);
  });
}
