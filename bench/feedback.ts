/**
 * The analyst's loop measured on CIFAR-10 + the shared MoCo model (issue: feedback → retrain):
 * a CF detector for train/deer with a narrow contrast set (train/ airplane, automobile, ship,
 * truck), evaluated on all of test/ (deer = inliers); then the analyst confirms 100 anomalies
 * (the first 50 images of train/horse and of train/dog) and retrains. AUROC per test class before
 * and after, over several seeds, for the default anomaly share and for no repetition at all.
 *
 *   BENCH_WORKSPACE=<a workspace with cifar-train and cifar-test extracted> npm run bench:feedback
 *
 * Environment: BENCH_STEPS (1000) BENCH_HIDDEN (512) BENCH_BLOCKS (8) BENCH_SEEDS (3)
 * BENCH_SHARES (0.25,natural). Without BENCH_WORKSPACE the folders are added and extracted first.
 * Results: bench/results/feedback-<settings>.json and a table on stdout.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  extractSelections,
  openWorkspace,
  resolveDataRef,
  resolveExtractor,
  retrainWithFeedback,
  trainDetector,
  type Workspace,
} from '../src/main/engine/studio';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const env = (k: string, d: string) => process.env[k] ?? d;
const steps = Number(env('BENCH_STEPS', '1000'));
const hidden = Number(env('BENCH_HIDDEN', '512'));
const blocks = Number(env('BENCH_BLOCKS', '8'));
const seeds = Array.from({ length: Number(env('BENCH_SEEDS', '3')) }, (_, i) => i);
const shares = env('BENCH_SHARES', '0.25,natural').split(',');
const tag = `s${steps}-h${hidden}-b${blocks}`;
const outFile = path.join(repo, 'bench', 'results', `feedback-${tag}.json`);
fs.mkdirSync(path.dirname(outFile), { recursive: true });

const wsFile =
  process.env.BENCH_WORKSPACE ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-fb-')), 'ws.cfstudio');
const ws: Workspace = openWorkspace(wsFile);
const cifar = path.join(shared, 'data', 'cifar10');
const ref = async (text: string, role: string) => (await resolveDataRef(ws, text, role)).selection;
const train = ws.datasets.byName('cifar-train')
  ? await ref('cifar-train', 'train')
  : await ref(path.join(cifar, 'train'), 'train');
const test = ws.datasets.byName('cifar-test')
  ? await ref('cifar-test', 'test')
  : await ref(path.join(cifar, 'test'), 'test');
const { extractor } = await resolveExtractor(
  ws,
  ws.extractors.list()[0]?.name ?? path.join(shared, 'models', 'moco_r18_cifar10.onnx'),
);
await extractSelections(ws, [train, test], extractor);

const inliers = { ...train, labels: ['deer'] };
const contrast = { ...train, labels: ['airplane', 'automobile', 'ship', 'truck'] };
const confirmed = ['horse', 'dog'].flatMap((label) =>
  ws.items
    .list(train.datasetId, { status: 'ok', labels: [label] })
    .sort((a, b) => a.relPath.localeCompare(b.relPath))
    .slice(0, 50)
    .map((i) => i.id),
);
const classes = ws.items
  .labels(test.datasetId)
  .map((l) => l.label)
  .filter((l) => l !== 'deer');

interface Row {
  seed: number;
  share: string;
  before: Record<string, number | null>;
  after: Record<string, number | null>;
  aurocBefore: number | null;
  aurocAfter: number | null;
  flaggedBefore: number;
  flaggedAfter: number;
  seconds: number;
}
const rows: Row[] = [];
for (const seed of seeds) {
  const t0 = performance.now();
  const parent = await trainDetector(ws, {
    name: `feedback bench parent seed ${seed}`,
    method: 'cf',
    inliers,
    contrast,
    test: { selection: test, inlierLabels: ['deer'] },
    extractor,
    options: { steps, hidden, blocks, seed },
  });
  for (const share of shares) {
    const t1 = performance.now();
    const r = await retrainWithFeedback(ws, {
      runId: parent.runId,
      anomalous: confirmed,
      storedMarks: false,
      // 'natural': no repetition (100 of ~4,100 contrast rows)
      anomalyShare: share === 'natural' ? 1e-6 : Number(share),
    });
    const c = r.comparison;
    rows.push({
      seed,
      share,
      before: c.before.perGroup,
      after: c.after.perGroup,
      aurocBefore: c.before.auroc,
      aurocAfter: c.after.auroc,
      flaggedBefore: c.before.flagged,
      flaggedAfter: c.after.flagged,
      seconds: (performance.now() - t1) / 1000,
    });
    console.error(
      `seed ${seed} share ${share}: AUROC ${(c.before.auroc! * 100).toFixed(1)} → ${(c.after.auroc! * 100).toFixed(1)}; horse ${(c.before.perGroup.horse! * 100).toFixed(1)} → ${(c.after.perGroup.horse! * 100).toFixed(1)}; dog ${(c.before.perGroup.dog! * 100).toFixed(1)} → ${(c.after.perGroup.dog! * 100).toFixed(1)} (parent ${((t1 - t0) / 1000).toFixed(0)} s)`,
    );
  }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(mean(xs.map((x) => (x - mean(xs)) ** 2)));
const fmt = (xs: number[]) => `${(mean(xs) * 100).toFixed(1)} ± ${(sd(xs) * 100).toFixed(1)}`;
const lines: string[] = [
  `CIFAR-10 deer vs a narrow contrast (airplane, automobile, ship, truck); 100 confirmed anomalies (50 horse + 50 dog from train/); test = all of test/; CF ${steps} steps, H=${hidden}, ${blocks} blocks; ${seeds.length} seeds; AUROC % mean ± std`,
];
for (const share of shares) {
  const mine = rows.filter((r) => r.share === share);
  lines.push(`\nanomaly share ${share}:`);
  lines.push(`${'class'.padEnd(12)}${'before'.padStart(14)}${'after'.padStart(14)}`);
  for (const c of classes)
    lines.push(
      `${c.padEnd(12)}${fmt(mine.map((r) => r.before[c]!)).padStart(14)}${fmt(mine.map((r) => r.after[c]!)).padStart(14)}`,
    );
  lines.push(
    `${'all'.padEnd(12)}${fmt(mine.map((r) => r.aurocBefore!)).padStart(14)}${fmt(mine.map((r) => r.aurocAfter!)).padStart(14)}`,
  );
  lines.push(
    `flagged at 5 % FPR: ${mean(mine.map((r) => r.flaggedBefore)).toFixed(0)} → ${mean(mine.map((r) => r.flaggedAfter)).toFixed(0)} (of ${9000} anomalies); retrain ${mean(mine.map((r) => r.seconds)).toFixed(0)} s per run`,
  );
}
console.log(lines.join('\n'));
fs.writeFileSync(outFile, JSON.stringify({ steps, hidden, blocks, seeds, shares, rows }, null, 2) + '\n');
ws.close();
