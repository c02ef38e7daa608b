/**
 * ort vs tfjs training backends on CIFAR-10 MoCo features: the paper's one-vs-rest protocol
 * (inliers = train/<class>, contrast = all of train/, test = all of test/) through the real CLI,
 * CF only, once with CFSTUDIO_TRAIN_BACKEND=ort and once with =tfjs, same seed and settings.
 * Too slow for CI (feature extraction of 20,000 images, two trainings per class); the unit tests
 * cover the loss-curve parity and the tabular AUROC parity.
 *
 *   node bin/run-ts.mjs bench/ort-train-parity.ts
 *
 * Environment: BENCH_CLASSES (airplane,cat,ship)  BENCH_STEPS (300)  BENCH_HIDDEN (128)
 *   BENCH_BLOCKS (4)  BENCH_WORKSPACE (a temp file; reuse one to skip the feature extraction)
 *   BENCH_TEST / BENCH_TRAIN / BENCH_EXTRACTOR (default: the shared test/ and train/ folders and
 *   the MoCo model; dataset and extractor names of BENCH_WORKSPACE work too)
 *   CFSTUDIO_SHARED (../shared)
 * Writes bench/results/ort-train-parity-cifar.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main/cli';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const env = (k: string, d: string) => process.env[k] ?? d;
const cifar = path.join(shared, 'data', 'cifar10');
const model = path.join(shared, 'models', 'moco_r18_cifar10.onnx');
if (!fs.existsSync(path.join(cifar, 'train')) || !fs.existsSync(model)) {
  console.error(`ort-train-parity: CIFAR-10 images or the MoCo model not found under ${shared}`);
  process.exit(2);
}
const wsFile =
  process.env.BENCH_WORKSPACE ??
  path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-parity-')), 'ws.cfstudio');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-parity-out-'));

/** the part of `cfstudio eval one-vs-rest --json` read here (OneVsRestResult) */
interface OneVsRestJson {
  runs: { inlier: string; method: string; metrics: { auroc: number } }[];
}

async function runWith(
  backend: 'ort' | 'tfjs',
): Promise<{ seconds: number; perClass: Record<string, number> }> {
  process.env.CFSTUDIO_TRAIN_BACKEND = backend;
  const out = path.join(tmp, `${backend}.json`);
  const t0 = performance.now();
  const code = await main([
    'node',
    'cfstudio',
    'eval',
    'one-vs-rest',
    '--data',
    env('BENCH_TEST', path.join(cifar, 'test')),
    '--train',
    env('BENCH_TRAIN', path.join(cifar, 'train')),
    '--contrast',
    env('BENCH_TRAIN', path.join(cifar, 'train')),
    '--extractor',
    env('BENCH_EXTRACTOR', model),
    '--methods',
    'cf',
    '--steps',
    env('BENCH_STEPS', '300'),
    '--hidden',
    env('BENCH_HIDDEN', '128'),
    '--blocks',
    env('BENCH_BLOCKS', '4'),
    '--classes',
    env('BENCH_CLASSES', 'airplane,cat,ship'),
    '--json',
    out,
    '--workspace',
    wsFile,
    '--quiet',
  ]);
  if (code !== 0) throw new Error(`cfstudio eval one-vs-rest with ${backend} exited with ${code}`);
  const seconds = (performance.now() - t0) / 1000;
  const res = JSON.parse(fs.readFileSync(out, 'utf8')) as OneVsRestJson;
  const perClass: Record<string, number> = {};
  for (const r of res.runs) if (r.method === 'cf') perClass[r.inlier] = r.metrics.auroc;
  return { seconds, perClass };
}

const ortRun = await runWith('ort');
const tfRun = await runWith('tfjs');
const lines = ['class        ort AUROC   tfjs AUROC   |Δ|'];
let worst = 0;
for (const [cls, a] of Object.entries(ortRun.perClass)) {
  const b = tfRun.perClass[cls];
  worst = Math.max(worst, Math.abs(a - b));
  lines.push(
    `${cls.padEnd(12)} ${(a * 100).toFixed(2).padStart(9)}   ${(b * 100).toFixed(2).padStart(10)}   ${(Math.abs(a - b) * 100).toFixed(2)}`,
  );
}
lines.push(
  `max |Δ| ${(worst * 100).toFixed(2)} AUROC points · ort ${ortRun.seconds.toFixed(0)} s, tfjs ${tfRun.seconds.toFixed(0)} s (incl. extraction on the first run) · workspace ${wsFile}`,
);
console.log(lines.join('\n'));
const file = path.join(repo, 'bench', 'results', 'ort-train-parity-cifar.json');
fs.mkdirSync(path.dirname(file), { recursive: true });
fs.writeFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      settings: {
        classes: env('BENCH_CLASSES', 'airplane,cat,ship'),
        steps: Number(env('BENCH_STEPS', '300')),
        hidden: Number(env('BENCH_HIDDEN', '128')),
        blocks: Number(env('BENCH_BLOCKS', '4')),
      },
      ort: ortRun,
      tfjs: tfRun,
      maxAbsDiff: worst,
    },
    null,
    2,
  ) + '\n',
);
process.exit(0);
