/**
 * The paper's Table 1/2 protocol on the shared CIFAR-10 images and MoCo model, all 10 classes:
 * for each class, inliers = train/<class> (1,000 images), contrast = all of train/ (10,000),
 * test = all of test/ (10,000); CF next to Flow, Flow-ratio, MSE and KNN. Runs the real CLI
 * (`cfstudio eval one-vs-rest`) in this process and keeps its JSON in bench/results/.
 *
 *   npm run bench:one-vs-rest
 *
 * Environment (defaults = REFERENCE.md's settings; a full run at them takes hours on wasm):
 *   BENCH_STEPS (1000)  BENCH_HIDDEN (512)  BENCH_BLOCKS (8)  BENCH_METHODS (cf,flow,ratio,mse,knn)
 *   BENCH_CLASSES (all) BENCH_WORKSPACE (a temp file; set it to reuse extracted features)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main/cli';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.CFSTUDIO_SHARED ?? path.resolve(repo, '../shared');
const env = (k: string, d: string) => process.env[k] ?? d;
const steps = env('BENCH_STEPS', '1000');
const hidden = env('BENCH_HIDDEN', '512');
const blocks = env('BENCH_BLOCKS', '8');
const tag = `s${steps}-h${hidden}-b${blocks}`;
const out = path.join(repo, 'bench', 'results', `one-vs-rest-${tag}.json`);
fs.mkdirSync(path.dirname(out), { recursive: true });
const wsFile =
  process.env.BENCH_WORKSPACE ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-ovr-')), 'ws.cfstudio');

const cifar = path.join(shared, 'data', 'cifar10');
const args = [
  'eval',
  'one-vs-rest',
  '--data',
  path.join(cifar, 'test'),
  '--train',
  path.join(cifar, 'train'),
  '--contrast',
  path.join(cifar, 'train'),
  '--extractor',
  path.join(shared, 'models', 'moco_r18_cifar10.onnx'),
  '--methods',
  env('BENCH_METHODS', 'cf,flow,ratio,mse,knn'),
  '--steps',
  steps,
  '--hidden',
  hidden,
  '--blocks',
  blocks,
  '--matrix',
  '--json',
  out,
  '--workspace',
  wsFile,
  ...(process.env.BENCH_CLASSES ? ['--classes', process.env.BENCH_CLASSES] : []),
];
const t0 = performance.now();
const code = await main(['node', 'cfstudio', ...args]);
console.log(
  `\n${((performance.now() - t0) / 60000).toFixed(1)} min · results: ${out} · workspace: ${wsFile}`,
);
process.exit(code);
