/**
 * Small folders (issue 16): CIFAR-10 one-vs-rest with N = 50, 100, 300 and 1,000 inlier images
 * per class — the first N files of train/<class> — all ten classes, contrast = all of train/
 * (10,000), test = all of test/ (10,000). Methods: CF with the new defaults (the inlier-count
 * rule, docs/small-folders.md), CF with the old defaults (H = 512, 8 blocks, 1,000 steps,
 * σ = 0.01, ε = 0, no rule), Flow (new defaults) and KNN. Runs the studio's one-vs-rest use case
 * (what `cfstudio eval one-vs-rest` runs) on a copy of a workspace that holds the CIFAR features,
 * with the N-image folders added as datasets (copies; their features come from the cache).
 * Then, on the four shared tables, Flow-ratio (permutation contrast, H = 128, 8 blocks, 1,500
 * steps: REFERENCE.md's setting) next to the reference.
 *
 *   npm run bench:small-folders
 *
 * Environment:
 *   BENCH_NS (50,100,300,1000)        inlier counts
 *   BENCH_SEEDS (0,1,2)               seeds of the new-default methods
 *   BENCH_OLD_SEEDS (0)               seeds of CF with the old defaults (≈ 45 min per seed here)
 *   BENCH_METHODS (cf,flow,knn)       new-default methods
 *   BENCH_CLASSES (all)               e.g. cat,deer,ship
 *   BENCH_PARTS (images,tables)       which parts to run
 *   BENCH_TABLE_SEEDS (0,…,9)         seeds of the Flow-ratio tables
 *   BENCH_WORKSPACE                   a workspace with cifar-train / cifar-test features (default:
 *                                     the newest /tmp/cfstudio-cifar-template-*, built by the tests)
 * Writes bench/results/small-folders.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  evaluateTable,
  oneVsRest,
  openWorkspace,
  resolveDataRef,
  type Method,
  type TrainOptions,
} from '../src/main/engine/studio';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const list = (k: string, d: string) =>
  (process.env[k] ?? d)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
const ns = list('BENCH_NS', '50,100,300,1000').map(Number);
const seeds = list('BENCH_SEEDS', '0,1,2').map(Number);
const oldSeeds = list('BENCH_OLD_SEEDS', '0').map(Number);
const methods = list('BENCH_METHODS', 'cf,flow,knn') as Method[];
const classes = process.env.BENCH_CLASSES ? list('BENCH_CLASSES', '') : null;
const parts = list('BENCH_PARTS', 'images,tables');
const tableSeeds = list('BENCH_TABLE_SEEDS', '0,1,2,3,4,5,6,7,8,9').map(Number);

/** CF as it was before the rule: the paper's flow and ε, σ = 0.01, no model selection. */
const OLD_DEFAULTS: TrainOptions = {
  hidden: 512,
  blocks: 8,
  steps: 1000,
  noise: 0.01,
  eps: 0,
  sizing: 'none',
};

const outFile = path.join(repo, 'bench', 'results', 'small-folders.json');
fs.mkdirSync(path.dirname(outFile), { recursive: true });
const results: Record<string, unknown> = {};
const save = () => fs.writeFileSync(outFile, JSON.stringify(results, null, 1));
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const sd = (v: number[]) =>
  v.length < 2 ? 0 : Math.sqrt(mean(v.map((x) => (x - mean(v)) ** 2)) * (v.length / (v.length - 1)));

function templateWorkspace(): string {
  if (process.env.BENCH_WORKSPACE) return process.env.BENCH_WORKSPACE;
  const dirs = fs
    .readdirSync(os.tmpdir())
    .filter((d) => d.startsWith('cfstudio-cifar-template-'))
    .map((d) => path.join(os.tmpdir(), d, 'ws.cfstudio'))
    .filter((f) => fs.existsSync(f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!dirs.length)
    throw new Error(
      'no CIFAR workspace: run the CIFAR integration test once (it builds /tmp/cfstudio-cifar-template-*), or set BENCH_WORKSPACE',
    );
  return dirs[0];
}

/** /tmp/cifar-small/N/<class>/ holding copies of the first N files of train/<class> (the scanner does not follow symlinks out of a folder). */
function smallFolder(n: number): string {
  const root = path.join(os.tmpdir(), 'cifar-small', String(n));
  const train = path.join(shared, 'data', 'cifar10', 'train');
  for (const c of fs.readdirSync(train).sort()) {
    const dir = path.join(root, c);
    fs.mkdirSync(dir, { recursive: true });
    const files = fs.readdirSync(path.join(train, c)).sort().slice(0, n);
    for (const f of files) {
      const copy = path.join(dir, f);
      if (!fs.existsSync(copy)) fs.copyFileSync(path.join(train, c, f), copy);
    }
  }
  return root;
}

async function images(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-small-folders-'));
  const wsFile = path.join(tmp, 'ws.cfstudio');
  fs.copyFileSync(templateWorkspace(), wsFile);
  const ws = openWorkspace(wsFile);
  try {
    const ex = ws.extractors.list()[0];
    const train = (await resolveDataRef(ws, 'cifar-train', 'contrast')).selection;
    const test = (await resolveDataRef(ws, 'cifar-test', 'test data')).selection;
    type Row = {
      n: number;
      variant: string;
      seed: number;
      perClass: Record<string, number>;
      mean: number;
      secondsPerRun: number;
    };
    const rows: Row[] = [];
    results.images = rows;
    const run = async (n: number, variant: string, ms: Method[], options: TrainOptions, seed: number) => {
      const small = (await resolveDataRef(ws, smallFolder(n), 'training data')).selection;
      const t0 = performance.now();
      const res = await oneVsRest(ws, {
        train: small,
        contrast: train,
        test,
        methods: ms,
        classes,
        options: { ...options, seed },
        extractor: ex,
        name: `small folders N=${n} ${variant} seed ${seed}`,
      });
      for (const m of ms) {
        const mine = res.runs.filter((r) => r.method === m);
        const row: Row = {
          n,
          variant: variant === 'new' ? m : `${m} (old defaults)`,
          seed,
          perClass: Object.fromEntries(mine.map((r) => [r.inlier, +(100 * r.metrics.auroc).toFixed(2)])),
          mean: 100 * res.meanAuroc[m],
          secondsPerRun: mean(mine.map((r) => r.seconds)),
        };
        rows.push(row);
        console.log(
          `N=${n} ${row.variant.padEnd(20)} seed ${seed}: mean ${row.mean.toFixed(2)}  (${row.secondsPerRun.toFixed(1)} s/run)  ${JSON.stringify(row.perClass)}`,
        );
      }
      save();
      return (performance.now() - t0) / 1000;
    };
    for (const n of ns) {
      for (const seed of seeds) await run(n, 'new', methods, {}, seed);
      for (const seed of oldSeeds) await run(n, 'old', ['cf'], OLD_DEFAULTS, seed);
    }
    console.log(
      '\nCIFAR-10 one-vs-rest, mean AUROC (%) over the classes; mean ± sd over seeds [seeds]; s/run',
    );
    const variants = [...new Set(rows.map((r) => r.variant))];
    console.log(`${'method'.padEnd(20)}${ns.map((n) => `N=${n}`.padStart(24)).join('')}`);
    for (const v of variants) {
      const cells = ns.map((n) => {
        const rs = rows.filter((r) => r.n === n && r.variant === v);
        if (!rs.length) return '—'.padStart(24);
        const m = rs.map((r) => r.mean);
        return `${mean(m).toFixed(1)} ± ${sd(m).toFixed(1)} [${rs.length}] ${mean(rs.map((r) => r.secondsPerRun)).toFixed(0)}s`.padStart(
          24,
        );
      });
      console.log(`${v.padEnd(20)}${cells.join('')}`);
    }
  } finally {
    ws.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** REFERENCE.md, tables, Flow-ratio (mean of 3 seeds, H = 128, 1,500 steps). */
const RATIO_REFERENCE: Record<string, number> = {
  cardio: 90.8,
  thyroid: 43.1,
  mammography: 63.1,
  satellite: 87.4,
};

async function tables(): Promise<void> {
  const out: Record<string, unknown> = {};
  results.tables = out;
  console.log(`\nFlow-ratio on the tables (H = 128, 8 blocks, 1,500 steps; seeds ${tableSeeds.join(',')})`);
  for (const t of Object.keys(RATIO_REFERENCE)) {
    const t0 = performance.now();
    const r = await evaluateTable({
      data: path.join(shared, 'data', 'tabular', `${t}.csv`),
      labelColumn: 'label',
      methods: ['ratio'],
      seeds: tableSeeds,
      options: { hidden: 128, blocks: 8, steps: 1500, noise: 0.01, sizing: 'none' },
    });
    const a = r.methods[0].aurocs.map((x) => 100 * x);
    const se = sd(a) / Math.sqrt(a.length);
    out[t] = { aurocs: a, mean: mean(a), sd: sd(a), reference: RATIO_REFERENCE[t] };
    save();
    console.log(
      `${t.padEnd(12)} ${mean(a).toFixed(1)} ± ${sd(a).toFixed(1)} (s.e. ${se.toFixed(1)}; first 3 seeds ${mean(a.slice(0, 3)).toFixed(1)})  reference ${RATIO_REFERENCE[t]}  [${a.map((x) => x.toFixed(1)).join(' ')}]  ${((performance.now() - t0) / 1000 / a.length).toFixed(0)} s/seed`,
    );
  }
}

const t0 = performance.now();
if (parts.includes('images')) await images();
if (parts.includes('tables')) await tables();
console.log(`\n${((performance.now() - t0) / 60000).toFixed(1)} min · results: ${outFile}`);
process.exit(0);
