/**
 * `cfstudio`: the command line over the same engine the desktop app uses.
 *   cfstudio info [model.cfdet]
 *   cfstudio train --inliers data.csv --contrast permutation --method cf --out model.cfdet
 *   cfstudio score --model model.cfdet --input new.csv --out scores.csv
 *   cfstudio eval  --data table.csv --label-column label --methods cf,flow,ratio,mse,knn,kde,pca
 * Every input is validated here; errors print what failed and what to do, without a stack.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import fs from 'node:fs';
import path from 'node:path';
import { initTfjs } from './engine/backend/tfjsBackend';
import { checkSameColumns, loadTable, requireRows, type Table } from './engine/data/table';
import { defaultDetectorConfig, type DetectorConfig } from './engine/detector/fitDetector';
import { CONTRAST_METHODS, isMethod, METHOD_LABELS, METHODS, type Method } from './engine/detector/methods';
import type { PreprocessKind } from './engine/detector/preprocess';
import { inputColumns } from './engine/detector/preprocess';
import { scoreDetector } from './engine/detector/scoreDetector';
import type { Detector } from './engine/detector/types';
import { auroc } from './engine/eval/auroc';
import { runTabularProtocol } from './engine/eval/tabularProtocol';
import { runTrainJob } from './engine/jobs/runTrainJob';
import { loadDetector, saveDetector } from './engine/model/cfdet';
import type { TrainProgress } from './engine/train/trainer';
import { CancelledError, UserError } from './engine/util/errors';
import { takeRows } from './engine/util/matrix';
import { appVersion } from './engine/util/version';

// ---------- option parsing (validated at the edge) ----------

function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}
function numArg(name: string, min = -Infinity, max = Infinity) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be a number from ${min} to ${max}`);
    return n;
  };
}
function methodArg(v: string): Method {
  if (!isMethod(v)) throw new InvalidArgumentError(`unknown method '${v}'; use one of ${METHODS.join(', ')}`);
  return v;
}
function methodListArg(v: string): Method[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('give at least one method');
  return list.map(methodArg);
}
function epsArg(v: string): number | 'auto' {
  if (v === 'auto') return 'auto';
  return numArg('--eps')(v);
}

interface ModelOpts {
  method: Method;
  steps?: number;
  hidden?: number;
  blocks?: number;
  clamp?: number;
  batch?: number;
  lr?: number;
  clip?: number;
  noise?: number;
  eps?: number | 'auto';
  epsQuantile?: number;
  epsOffset?: number;
  seed?: number;
  patience?: number;
  preprocess?: PreprocessKind;
  k?: number;
  oeSteps?: number;
}

function addModelOptions(cmd: Command, withMethod = true): Command {
  if (withMethod)
    cmd.addOption(
      new Option('--method <m>', `method: ${METHODS.join(', ')}`).argParser(methodArg).default('cf'),
    );
  return cmd
    .option('--steps <n>', 'training steps (default 1000)', intArg('--steps', 1, 10_000_000))
    .option(
      '--hidden <n>',
      'hidden width H of each coupling subnet (default 512)',
      intArg('--hidden', 1, 8192),
    )
    .option('--blocks <n>', 'coupling blocks (default 8)', intArg('--blocks', 1, 64))
    .option(
      '--clamp <x>',
      'soft clamp α of the log-scale, s = α·tanh(a/α) (default 2)',
      numArg('--clamp', 0.01, 100),
    )
    .option(
      '--batch <n>',
      'batch size for inliers and for contrast (default 256)',
      intArg('--batch', 2, 65536),
    )
    .option('--lr <x>', 'Adam learning rate, cosine-decayed (default 1e-3)', numArg('--lr', 1e-8, 1))
    .option('--clip <x>', 'gradient-norm clip (default 10)', numArg('--clip', 1e-6))
    .option('--noise <x>', 'σ of training noise added to features (default 0.01)', numArg('--noise', 0, 10))
    .option(
      '--eps <x>',
      "CF clamp ε: a number (default 0) or 'auto' (plain flow first, quantile of held-out log p + offset)",
      epsArg,
    )
    .option(
      '--eps-quantile <q>',
      'auto ε: quantile of held-out inlier log p (default 0.1)',
      numArg('--eps-quantile', 0, 1),
    )
    .option(
      '--eps-offset <x>',
      'auto ε: offset added to that quantile (default −ln 10)',
      numArg('--eps-offset'),
    )
    .option('--seed <n>', 'random seed (default 0)', intArg('--seed', 0, 2 ** 31 - 1))
    .option(
      '--patience <n>',
      'stop after n held-out evaluations without improvement (0 = off)',
      intArg('--patience', 0),
    )
    .addOption(
      new Option('--preprocess <p>', 'feature preprocessing').choices([
        'standardize',
        'median-iqr',
        'l2',
        'none',
      ]),
    )
    .option('--k <n>', 'KNN: neighbours (default 5)', intArg('--k', 1))
    .option(
      '--oe-steps <n>',
      'OE: fine-tuning steps after the plain flow (default steps/2)',
      intArg('--oe-steps', 1),
    );
}

function buildConfig(o: ModelOpts, method: Method, defaultPreprocess: PreprocessKind): DetectorConfig {
  const c = defaultDetectorConfig(method, o.preprocess ?? defaultPreprocess);
  if (o.steps !== undefined) c.train.steps = o.steps;
  if (o.hidden !== undefined) c.flow.hidden = o.hidden;
  if (o.blocks !== undefined) c.flow.blocks = o.blocks;
  if (o.clamp !== undefined) c.flow.clamp = o.clamp;
  if (o.batch !== undefined) c.train.batchSize = o.batch;
  if (o.lr !== undefined) c.train.lr = o.lr;
  if (o.clip !== undefined) c.train.clipNorm = o.clip;
  if (o.noise !== undefined) c.train.noiseStd = o.noise;
  if (o.seed !== undefined) c.train.seed = o.seed;
  if (o.patience !== undefined) c.train.patience = o.patience;
  if (o.k !== undefined) c.baseline.k = o.k;
  c.oe.steps = o.oeSteps ?? Math.max(1, Math.round(c.train.steps / 2));
  if (o.eps === 'auto')
    c.eps = { mode: 'auto', quantile: o.epsQuantile ?? 0.1, offset: o.epsOffset ?? -Math.log(10) };
  else if (o.eps !== undefined) c.eps = { mode: 'fixed', value: o.eps };
  return c;
}

// ---------- progress ----------

function progressPrinter(quiet: boolean): (p: TrainProgress) => void {
  let lastPrint = 0;
  let lastPhase = '';
  const tty = process.stderr.isTTY;
  return (p) => {
    if (quiet) return;
    const now = Date.now();
    const done = p.step === p.totalSteps;
    if (!done && p.phase === lastPhase && now - lastPrint < (tty ? 200 : 5000)) return;
    lastPrint = now;
    lastPhase = p.phase;
    const contrast = Number.isNaN(p.contrastNll)
      ? ''
      : ` contrast NLL ${p.contrastNll.toFixed(3)} above ε ${(p.contrastAboveEps * 100).toFixed(0)}%`;
    const held = p.heldOutNll === null ? '' : ` held-out NLL ${p.heldOutNll.toFixed(3)}`;
    const line = `[${p.phase}] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} inlier NLL ${p.inlierNll.toFixed(3)}${contrast}${held} · ${p.stepsPerSec.toFixed(1)} steps/s · ETA ${Math.ceil(p.etaSeconds)} s`;
    if (tty) process.stderr.write(`\r\x1b[2K${line}${done ? '\n' : ''}`);
    else process.stderr.write(line + '\n');
  };
}

// ---------- commands ----------

function readTable(file: string, labelColumn: string | undefined, what: string, requireLabel = false): Table {
  const t = loadTable(file, { labelColumn, requireLabel });
  requireRows(
    t,
    what === 'scoring' ? 1 : 2,
    what === 'scoring' ? 'score' : what === 'training' ? 'train' : 'evaluate',
  );
  return t;
}

/** Inlier rows of a table: all rows, or those labelled 0 when a label column is named. */
function inlierRows(t: Table, log: (s: string) => void): Table {
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

async function cmdTrain(
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
    const info = await initTfjs();
    log(`backend: ${info.backend} (${info.package})`);
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

async function cmdScore(o: {
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
  const tmp = `${o.out}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, lines.join('\n') + '\n');
  fs.renameSync(tmp, o.out);
  let msg = `scored ${score.length} rows with ${METHOD_LABELS[det.method]} → ${o.out}`;
  if (t.labels && t.labels.some((l) => l !== 0) && t.labels.some((l) => l === 0))
    msg += ` · AUROC ${(auroc(score, t.labels) * 100).toFixed(1)}`;
  process.stdout.write(msg + '\n');
}

async function cmdEval(
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
    const info = await initTfjs();
    log(`backend: ${info.backend} (${info.package})`);
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

function detectorSummary(det: Detector, file?: string): Record<string, unknown> {
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

async function cmdInfo(model: string | undefined, o: { json?: boolean }): Promise<void> {
  if (model) {
    const s = detectorSummary(loadDetector(model), model);
    process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatSummary(s));
    return;
  }
  const info = await initTfjs();
  const s = {
    appVersion: appVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    training: info,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(s, null, 2) + '\n');
    return;
  }
  const lines = [
    `CF Studio ${s.appVersion} · Node ${s.node} · ${s.platform}`,
    `training backend: ${info.backend} (${info.package}, tfjs ${info.tfjsVersion})`,
    'backends tried:',
  ];
  for (const a of info.attempts)
    lines.push(`  ${a.ok ? '✓' : '✗'} ${a.name}${a.reason ? ` — ${a.reason}` : ''}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function formatSummary(s: Record<string, unknown>): string {
  return (
    Object.entries(s)
      .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
      .join('\n') + '\n'
  );
}

// ---------- program ----------

export function buildProgram(signal: AbortSignal): Command {
  // exitOverride before the subcommands exist: commander copies it to each at creation, so a
  // bad option value exits through main() with code 2 instead of process.exit(1)
  const program = new Command('cfstudio')
    .exitOverride()
    .description('Contrastive normalizing flows for anomaly detection (CF Studio command line)')
    .version(appVersion())
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('info')
    .description('show the training backend in use (and why others failed), or the metadata of a model file')
    .argument('[model]', 'a .cfdet model file')
    .option('--json', 'print JSON')
    .action((model, o) => cmdInfo(model, o));

  addModelOptions(
    program
      .command('train')
      .description('train a detector on inlier rows and save it as a .cfdet file')
      .requiredOption('--inliers <file>', 'inlier features: CSV (header row, numeric columns) or .npy')
      .option(
        '--contrast <file|permutation>',
        "contrast features (same columns), or 'permutation' (column-shuffled inliers)",
      )
      .requiredOption('--out <file>', 'where to write the model (.cfdet)')
      .option(
        '--label-column <name>',
        'label column to exclude from the features; rows with label ≠ 0 are not trained on',
      )
      .option('--json', 'print a JSON summary of the trained model')
      .option('-q, --quiet', 'no progress output'),
  ).action((o) => cmdTrain(o, signal));

  program
    .command('score')
    .description(
      'score rows with a trained detector; writes a CSV with one score per row (higher = more anomalous)',
    )
    .requiredOption('--model <file>', 'a .cfdet model file')
    .requiredOption('--input <file>', 'CSV or .npy with the same columns as the training data')
    .requiredOption('--out <file>', 'CSV to write (row, score, log_prob, label)')
    .option(
      '--label-column <name>',
      'label column to exclude from the features (reported AUROC when present)',
    )
    .option('-q, --quiet', 'no progress output')
    .action((o) => cmdScore(o));

  addModelOptions(
    program
      .command('eval')
      .description(
        "the paper's tabular protocol: seeded 60 % of normal rows train; other normal rows + all anomalies test; AUROC per method",
      )
      .requiredOption('--data <file>', 'labelled table (CSV)')
      .requiredOption('--label-column <name>', 'label column (0 = normal, 1 = anomaly)')
      .option('--methods <list>', `comma-separated: ${METHODS.join(',')}`, methodListArg, [
        'cf',
        'flow',
        'ratio',
        'mse',
        'knn',
        'kde',
        'pca',
      ] as Method[])
      .option('--seeds <n>', 'number of seeds (splits) to average over', intArg('--seeds', 1, 100), 3)
      .option(
        '--train-share <x>',
        'share of normal rows that train (default 0.6)',
        numArg('--train-share', 0.01, 0.99),
      )
      .option('--json <file>', 'also write the results as JSON')
      .option('-q, --quiet', 'no progress output'),
    false,
  ).action((o) => cmdEval(o, signal));

  return program;
}

/** Runs the CLI; returns the exit code (0 ok, 1 internal error, 2 user error, 130 cancelled). */
export async function main(argv: string[]): Promise<number> {
  const ac = new AbortController();
  const onSigint = () => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write('\ncancelling… (Ctrl-C again to quit at once)\n');
    ac.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    await buildProgram(ac.signal).parseAsync(argv);
    return 0;
  } catch (e) {
    const err = e as { code?: string; exitCode?: number };
    if (typeof err.code === 'string' && err.code.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    if (e instanceof CancelledError) {
      process.stderr.write(`${e.message}; nothing was written\n`);
      return 130;
    }
    if (e instanceof UserError) {
      process.stderr.write(`error: ${e.message}\n${e.hint ? `  fix: ${e.hint}\n` : ''}`);
      return 2;
    }
    process.stderr.write(
      `internal error: ${(e as Error).message}\n${process.env.CFSTUDIO_DEBUG ? (e as Error).stack + '\n' : '  (set CFSTUDIO_DEBUG=1 for details; please report it)\n'}`,
    );
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
