/**
 * The CLI's commands on tables (CSV/.npy features): train, score, the paper's tabular
 * protocol (eval), and info about the backend or a model file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initTfjs } from '../engine/backend/tfjsBackend';
import { describeTrainBackend } from '../engine/backend/trainBackend';
import { checkSameColumns, loadTable, requireRows, type Table } from '../engine/data/table';
import { CONTRAST_METHODS, METHOD_LABELS, type Method } from '../engine/detector/methods';
import { inputColumns } from '../engine/detector/preprocess';
import { scoreDetector } from '../engine/detector/scoreDetector';
import type { Detector } from '../engine/detector/types';
import { auroc } from '../engine/eval/auroc';
import { readOnnxModelInfo } from '../engine/features/onnxMetadata';
import { runTabularProtocol } from '../engine/eval/tabularProtocol';
import { runTrainJob } from '../engine/jobs/runTrainJob';
import { loadDetector, saveDetector } from '../engine/model/cfdet';
import { UserError } from '../engine/util/errors';
import { takeRows } from '../engine/util/matrix';
import { appVersion } from '../engine/util/version';
import { buildConfig, type ModelOpts } from './options';
import { progressPrinter } from './progress';
import { writeFileAtomic } from '../engine/util/writeFileAtomic';

export function readTable(
  file: string,
  labelColumn: string | undefined,
  what: string,
  requireLabel = false,
): Table {
  const t = loadTable(file, { labelColumn, requireLabel });
  requireRows(
    t,
    what === 'scoring' ? 1 : 2,
    what === 'scoring' ? 'score' : what === 'training' ? 'train' : 'evaluate',
  );
  return t;
}

/** Inlier rows of a table: all rows, or those labelled 0 when a label column is named. */
export function inlierRows(t: Table, log: (s: string) => void): Table {
  if (!t.labels) return t;
  const idx: number[] = [];
  t.labels.forEach((l, i) => l === 0 && idx.push(i));
  if (idx.length < t.x.rows)
    log(
      `note: ${t.x.rows - idx.length} rows of ${t.source} are labelled anomalous and are left out of training`,
    );
  if (idx.length < 2)
    throw new UserError(
      `${t.source} has ${idx.length} rows labelled 0 (normal); training needs at least 2`,
      'check the label column',
    );
  return { ...t, x: takeRows(t.x, idx), labels: null };
}

export async function cmdTrain(
  o: ModelOpts & {
    inliers: string;
    contrast?: string;
    out: string;
    labelColumn?: string;
    quiet?: boolean;
    json?: boolean;
  },
  signal: AbortSignal,
): Promise<void> {
  const log = (s: string) => !o.quiet && process.stderr.write(s + '\n');
  const method = o.method;
  const inl = inlierRows(readTable(o.inliers, o.labelColumn, 'training'), log);
  let contrast: Table | 'permutation' | null = null;
  if (CONTRAST_METHODS.includes(method)) {
    if (!o.contrast)
      throw new UserError(
        `method '${method}' needs contrast data`,
        'add --contrast FILE (same columns as the inliers) or --contrast permutation',
      );
    if (o.contrast === 'permutation') contrast = 'permutation';
    else {
      contrast = readTable(o.contrast, o.labelColumn, 'training');
      checkSameColumns(inl, contrast);
    }
  } else if (o.contrast) log(`note: method '${method}' does not use contrast data; --contrast is ignored`);
  const config = buildConfig(o, method, 'standardize');
  if (['cf', 'flow', 'ratio', 'oe'].includes(method)) {
    const trainer = await describeTrainBackend();
    log(`backend: ${trainer.name} (${trainer.detail})`);
  }
  // training runs in a worker thread: this thread keeps the progress display and Ctrl-C responsive
  const det = await runTrainJob(
    {
      inliers: inl.x,
      columns: inl.columns,
      contrast: contrast === null || contrast === 'permutation' ? contrast : contrast.x,
      source: inl.source,
    },
    config,
    { onProgress: progressPrinter(!!o.quiet), signal, appVersion: appVersion() },
  );
  for (const n of det.meta.notes) log(`note: ${n}`);
  saveDetector(det, o.out);
  const summary = detectorSummary(det, o.out);
  if (o.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else
    process.stdout.write(
      `saved ${METHOD_LABELS[method]} detector to ${o.out} (${det.meta.seconds.toFixed(1)} s)\n`,
    );
}

export async function cmdScore(o: {
  model: string;
  input: string;
  out: string;
  labelColumn?: string;
  quiet?: boolean;
}): Promise<void> {
  const det = loadDetector(o.model);
  const t = readTable(o.input, o.labelColumn, 'scoring');
  const cols = inputColumns(det.preprocessing);
  if (t.x.cols !== cols.length) {
    throw new UserError(
      `${o.input} has ${t.x.cols} feature columns, the detector ${o.model} was trained on ${cols.length} (${cols.slice(0, 8).join(', ')}${cols.length > 8 ? ', …' : ''})`,
      o.labelColumn
        ? 'score a file with the same columns as the training file'
        : 'if the file has a label column, name it with --label-column',
    );
  }
  if (!t.columns.every((c, i) => c === cols[i]) && !t.columns.every((c, i) => c === `f${i}`)) {
    const i = t.columns.findIndex((c, j) => c !== cols[j]);
    throw new UserError(
      `${o.input}: column ${i + 1} is '${t.columns[i]}', the detector expects '${cols[i]}'`,
      'use the same columns, in the same order, as the training file',
    );
  }
  const { score, logProb } = await scoreDetector(det, t.x, o.input);
  const lines = [
    ['row', 'score', ...(logProb ? ['log_prob'] : []), ...(t.labels ? [t.labelColumn!] : [])].join(','),
  ];
  for (let i = 0; i < score.length; i++) {
    lines.push(
      [i + 1, score[i], ...(logProb ? [logProb[i]] : []), ...(t.labels ? [t.labels[i]] : [])].join(','),
    );
  }
  writeFileAtomic(o.out, lines.join('\n') + '\n');
  let msg = `scored ${score.length} rows with ${METHOD_LABELS[det.method]} → ${o.out}`;
  if (t.labels && t.labels.some((l) => l !== 0) && t.labels.some((l) => l === 0))
    msg += ` · AUROC ${(auroc(score, t.labels) * 100).toFixed(1)}`;
  process.stdout.write(msg + '\n');
}

export async function cmdEval(
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
  const t = readTable(o.data, o.labelColumn, 'evaluation', true);
  const log = (s: string) => !o.quiet && process.stderr.write(s + '\n');
  const seeds = Array.from({ length: o.seeds }, (_, i) => (o.seed ?? 0) + i);
  if (o.methods.some((m) => ['cf', 'flow', 'ratio', 'oe'].includes(m))) {
    const trainer = await describeTrainBackend();
    log(`backend: ${trainer.name} (${trainer.detail})`);
  }
  const res = await runTabularProtocol(
    t,
    o.methods,
    seeds,
    (m, seed) => buildConfig({ ...o, method: m, seed }, m, 'standardize'),
    {
      signal,
      onProgress: progressPrinter(!!o.quiet),
      appVersion: appVersion(),
      trainShare: o.trainShare,
      onMethodDone: (m, seed, a) => log(`${m} seed ${seed}: AUROC ${(a * 100).toFixed(1)}`),
    },
  );
  const w = Math.max(...o.methods.map((m) => METHOD_LABELS[m].length));
  const out = [
    `${path.basename(o.data)}: ${res.rows} rows, ${res.features} features, ${res.anomalies} anomalies; train = ${res.trainShare * 100}% of normal rows; seeds ${seeds.join(',')}`,
  ];
  out.push(`${'method'.padEnd(w)}  AUROC (mean ± std)`);
  for (const r of res.methods)
    out.push(
      `${METHOD_LABELS[r.method].padEnd(w)}  ${(r.mean * 100).toFixed(1)} ± ${(r.std * 100).toFixed(1)}`,
    );
  process.stdout.write(out.join('\n') + '\n');
  for (const r of res.methods) for (const n of r.notes) log(`note (${r.method}): ${n}`);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify(res, null, 2) + '\n');
}

export function detectorSummary(det: Detector, file?: string): Record<string, unknown> {
  return {
    file,
    method: det.method,
    formatVersion: det.formatVersion,
    preprocessing: det.preprocessing.kind,
    inputColumns: inputColumns(det.preprocessing),
    eps: det.eps,
    flows: det.flows.map((f) => ({
      role: f.role,
      dim: f.spec.dim,
      blocks: f.spec.blocks,
      hidden: f.spec.hidden,
      clamp: f.spec.clamp,
    })),
    baseline: det.baseline ? { kind: det.baseline.kind, params: det.baseline.params } : null,
    backend: det.meta.backend
      ? {
          backend: det.meta.backend.backend,
          package: det.meta.backend.package,
          attempts: det.meta.backend.attempts,
        }
      : null,
    training: det.meta.phases.map((p) => ({
      phase: p.phase,
      steps: p.steps,
      seconds: +p.seconds.toFixed(2),
      stepsPerSec: +p.stepsPerSec.toFixed(2),
      finalHeldOutNll: p.finalHeldOutNll,
      contrastAboveEps: p.contrastAboveEps,
      ...(p.trainBackend ? { backend: p.trainBackend } : {}),
    })),
    seed: det.meta.seed,
    dataHashes: det.meta.dataHashes,
    rows: {
      inliers: det.meta.inlierRows,
      contrast: det.meta.contrastRows,
      contrastKind: det.meta.contrastKind,
    },
    seconds: det.meta.seconds,
    createdAt: det.meta.createdAt,
    appVersion: det.meta.appVersion,
    notes: det.meta.notes,
  };
}

export async function cmdInfo(model: string | undefined, o: { json?: boolean }): Promise<void> {
  if (model && /\.onnx$/i.test(model)) {
    const m = await readOnnxModelInfo(model);
    const s = { file: model, producer: `${m.producerName} ${m.producerVersion}`.trim(), ...m.metadataProps };
    process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
    return;
  }
  if (model) {
    const s = detectorSummary(loadDetector(model), model);
    process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
    return;
  }
  const info = await initTfjs();
  const trainer = await describeTrainBackend();
  const s = {
    appVersion: appVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    training: info,
    /** the backend flows train on ('ort-cpu' or 'tfjs-<backend>') and why */
    flowTraining: { backend: trainer.name, detail: trainer.detail, requested: trainer.decision.requested },
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const lines = [
    `CF Studio ${s.appVersion} · Node ${s.node} · ${s.platform}`,
    `training backend: ${info.backend} (${info.package}, tfjs ${info.tfjsVersion})`,
    `flow training step: ${trainer.name} — ${trainer.detail}`,
    'backends tried:',
  ];
  for (const a of info.attempts)
    lines.push(`  ${a.ok ? '✓' : '✗'} ${a.name}${a.reason ? ` — ${a.reason}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function formatSummary(s: Record<string, unknown>): string {
  return (
    Object.entries(s)
      .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
      .join('\n') + '\n'
  );
}
