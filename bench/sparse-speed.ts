/**
 * Sparse vs dense contrast backward of CF on ONNX Runtime (issue 15 item 1), one run, one
 * machine: the ort training step of cf.ts (every contrast row back-propagated) against
 * cfSparse.ts (only the rows above ε), on the shared MoCo CIFAR-10 features — deer inliers,
 * all-class contrast, ε = 0 — so the share of contrast above ε is the real one.
 *
 *   npm run bench:sparse     (= node bin/run-ts.mjs bench/sparse-speed.ts)
 *
 * Flow: H = 512, 8 blocks, D = the features' (MoCo r18: 128); batch 256 inliers + 256 contrast;
 * Adam as the trainer (lr 1e-3, clip 10, noise 0.01). The flow is first trained BENCH_WARMUP
 * steps (data-dependent init, then the sparse step: it is the same update) so that the share
 * above ε is what a training run sees after its first steps; then a dense and a sparse runner
 * start from those parameters and time alternating windows of BENCH_WINDOW_STEPS steps each
 * (dense, sparse, dense, …: both see the same load on a shared machine). Rates are medians over
 * the windows. PyTorch's dense step on the same flow and batch (../shared/bench/flow_torch.py)
 * runs between the two halves of the windows (BENCH_SKIP_TORCH=1 skips it; BENCH_TORCH_TIMEOUT
 * seconds, default 240). Writes bench/results/sparse-speed.json.
 *
 * Environment:
 *   BENCH_WARMUP        training steps before the timing (default 100)
 *   BENCH_WINDOWS       timing windows per step kind (default 5)
 *   BENCH_WINDOW_STEPS  steps per window (default 16, two ONNX Runtime calls of 8)
 *   BENCH_ORT_THREADS   intra-op threads (default: the cores available)
 *   CFSTUDIO_CIFAR_WORKSPACE  a workspace with the cifar-train MoCo features (default: the
 *                       newest /tmp/cfstudio-cifar-template-*, built by the CIFAR tests)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTfjs } from '../src/main/engine/backend/tfjsBackend';
import { initFlowParams, type ParamMap } from '../src/main/engine/flow/params';
import { makeFlowSpec, type FlowSpec } from '../src/main/engine/flow/spec';
import { cfObjective } from '../src/main/engine/train/objectives/cf';
import { cfSparseObjective } from '../src/main/engine/train/objectives/cfSparse';
import type { ObjectiveBuilder } from '../src/main/engine/train/objectives/types';
import { DEFAULT_ORT_STEPS_PER_CALL, OrtStepRunner } from '../src/main/engine/train/ort/ortStepRunner';
import type { StepResult } from '../src/main/engine/train/stepRunner';
import { DEFAULT_TRAIN, dataInitAffine } from '../src/main/engine/train/trainer';
import { Rng } from '../src/main/engine/util/rng';
import { loadMocoCifar } from '../test/helpers/mocoFeatures';

function envInt(name: string, def: number, min = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${v}: expected an integer ≥ ${min}`);
  return n;
}
const WARMUP = envInt('BENCH_WARMUP', 100, 0);
const WINDOWS = envInt('BENCH_WINDOWS', 5);
const WINDOW_STEPS = envInt('BENCH_WINDOW_STEPS', 16);
const THREADS = process.env.BENCH_ORT_THREADS ? envInt('BENCH_ORT_THREADS', 2) : undefined;
const B = 256;
const EPS = 0;
const K = DEFAULT_ORT_STEPS_PER_CALL;

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const sharedDir = process.env.CFSTUDIO_SHARED ?? path.resolve(repoRoot, '../shared');

/**
 * PyTorch's dense CF step on the same flow and batch (../shared/bench/flow_torch.py;
 * its cost does not depend on the values, so its random batch times the same as features).
 * null when torch is missing (apt-get install python3-torch libopenblas0-pthread).
 */
function torchStepsPerSec(): { rate: number; line: string } | { rate: null; line: string } {
  const script = path.join(sharedDir, 'bench', 'flow_torch.py');
  // as `npm run bench` runs it: torch's own thread count, OpenBLAS's default (both cores); naming
  // 2 threads as well oversubscribes the cores (measured 3.0 vs 7.0 steps/s)
  const r = spawnSync('/usr/bin/python3', [script], {
    encoding: 'utf8',
    timeout: Number(process.env.BENCH_TORCH_TIMEOUT ?? 240) * 1000,
  });
  const m = /train steps\/s median ([\d.]+)/.exec(r.stdout ?? '');
  if (!m)
    return {
      rate: null,
      line: `torch skipped: ${(r.stderr || r.error?.message || 'no output').trim().split('\n').at(-1)}`,
    };
  return {
    rate: Number(m[1]),
    line: (r.stdout.split('\n').find((l) => l.startsWith('train steps/s')) ?? '').trim(),
  };
}
const outFile = path.join(repoRoot, 'bench', 'results', 'sparse-speed.json');

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** Endless batches of rows (with the trainer's Gaussian noise), one seeded generator per stream. */
class Stream {
  private readonly rng: Rng;
  constructor(
    private readonly m: Float32Array,
    private readonly dim: number,
    seed: number,
  ) {
    this.rng = new Rng(seed);
  }
  next(steps: number): Float32Array {
    const rows = this.m.length / this.dim;
    const out = new Float32Array(steps * B * this.dim);
    for (let k = 0; k < steps * B; k++) {
      const r = this.rng.int(rows);
      out.set(this.m.subarray(r * this.dim, (r + 1) * this.dim), k * this.dim);
    }
    for (let i = 0; i < out.length; i++) out[i] += DEFAULT_TRAIN.noiseStd * this.rng.normal();
    return out;
  }
}

async function runner(build: ObjectiveBuilder, spec: FlowSpec, params: ParamMap, totalSteps: number) {
  return OrtStepRunner.create({
    spec,
    objective: build(spec, B, B),
    bx: B,
    by: B,
    params,
    adam: { lr: DEFAULT_TRAIN.lr, totalSteps, clipNorm: DEFAULT_TRAIN.clipNorm },
    eps: EPS,
    stepsPerCall: K,
    threads: THREADS,
  });
}

/** n steps in calls of ≤ K; the results and the wall time */
async function run(
  r: OrtStepRunner,
  inl: Stream,
  con: Stream,
  n: number,
): Promise<{ results: StepResult[]; seconds: number }> {
  const batches: [number, Float32Array, Float32Array][] = [];
  for (let s = 0; s < n; s += K) {
    const m = Math.min(K, n - s);
    batches.push([m, inl.next(m), con.next(m)]);
  }
  const results: StepResult[] = [];
  const t0 = performance.now();
  for (const [m, xs, ys] of batches) results.push(...(await r.steps(m, xs, ys)));
  return { results, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  const data = await loadMocoCifar('deer');
  if (!data) {
    console.error(
      'sparse-speed: no CIFAR MoCo workspace (run the CIFAR integration test once: it builds /tmp/cfstudio-cifar-template-*, or set CFSTUDIO_CIFAR_WORKSPACE)',
    );
    process.exit(2);
  }
  await initTfjs();
  const spec = makeFlowSpec(data.dim, { blocks: 8, hidden: 512 }, 0);
  console.log(
    `sparse-speed: ${data.source}; D=${data.dim}, H=512, 8 blocks, batch ${B}+${B}, ε=${EPS}; ` +
      `${os.cpus().length} CPUs, load average ${os.loadavg()[0].toFixed(1)}`,
  );
  const params = initFlowParams(spec, 0);
  const initRows = 512;
  const init = new Stream(data.inliers, data.dim, 1).next(2).subarray(0, initRows * data.dim);
  dataInitAffine(spec, params, { rows: initRows, cols: data.dim, data: init });

  const inl = new Stream(data.inliers, data.dim, 2);
  const con = new Stream(data.contrast, data.dim, 3);
  let start = params;
  const shares: number[] = [];
  if (WARMUP > 0) {
    const w = await runner(cfSparseObjective, spec, params, WARMUP + 1000);
    const r = await run(w, inl, con, WARMUP);
    shares.push(...r.results.map((s) => s.contrastAboveEps));
    start = w.snapshot();
    await w.dispose();
    console.log(
      `warm-up: ${WARMUP} sparse steps in ${r.seconds.toFixed(1)} s; share above ε at step 10 ${(100 * (shares[9] ?? NaN)).toFixed(0)} %, ` +
        `last 10 steps ${(100 * mean(shares.slice(-10))).toFixed(1)} %`,
    );
  }

  const total = 1000 + WARMUP;
  const kinds = {
    dense: await runner(cfObjective, spec, start, total),
    sparse: await runner(cfSparseObjective, spec, start, total),
  };
  // one call each first: session warm-up (allocations, first-run kernels) is not timed
  for (const r of Object.values(kinds)) await run(r, inl, con, K);
  const rates: Record<'dense' | 'sparse', number[]> = { dense: [], sparse: [] };
  const above: Record<'dense' | 'sparse', number[]> = { dense: [], sparse: [] };
  const losses: Record<'dense' | 'sparse', number[]> = { dense: [], sparse: [] };
  let torch: ReturnType<typeof torchStepsPerSec> = { rate: null, line: 'torch not run (BENCH_SKIP_TORCH)' };
  for (let w = 0; w < WINDOWS; w++) {
    // PyTorch in the middle: the ort windows on both sides of it see the machine as it was
    if (w === Math.floor(WINDOWS / 2) && process.env.BENCH_SKIP_TORCH !== '1') {
      torch = torchStepsPerSec();
      console.log(torch.line);
    }
    for (const kind of ['dense', 'sparse'] as const) {
      const r = await run(kinds[kind], inl, con, WINDOW_STEPS);
      rates[kind].push(WINDOW_STEPS / r.seconds);
      above[kind].push(...r.results.map((s) => s.contrastAboveEps));
      losses[kind].push(...r.results.map((s) => s.loss));
    }
    console.log(
      `window ${w + 1}/${WINDOWS}: dense ${rates.dense[w].toFixed(2)} steps/s, sparse ${rates.sparse[w].toFixed(2)} steps/s ` +
        `(share above ε ${(100 * mean(above.sparse.slice(-WINDOW_STEPS))).toFixed(1)} %), load ${os.loadavg()[0].toFixed(1)}`,
    );
  }
  for (const r of Object.values(kinds)) await r.dispose();

  const dense = median(rates.dense);
  const sparse = median(rates.sparse);
  // each sparse window against the dense one just before it (the same load, nearly)
  const paired = median(rates.sparse.map((r, w) => r / rates.dense[w]));
  const result = {
    date: new Date().toISOString(),
    data: data.source,
    flow: { dim: data.dim, hidden: 512, blocks: 8, batch: B, eps: EPS, stepsPerCall: K },
    warmupSteps: WARMUP,
    windows: WINDOWS,
    windowSteps: WINDOW_STEPS,
    loadAverage: os.loadavg(),
    stepsPerSec: {
      ortDense: dense,
      ortSparse: sparse,
      ratioSparseOverDense: sparse / dense,
      medianPairedRatio: paired,
      torchDense: torch.rate,
      ratioSparseOverTorch: torch.rate ? sparse / torch.rate : null,
      ratioDenseOverTorch: torch.rate ? dense / torch.rate : null,
    },
    perWindow: rates,
    shareAboveEps: {
      warmupStep10: shares[9] ?? null,
      timedDense: mean(above.dense),
      timedSparse: mean(above.sparse),
    },
    meanLoss: { dense: mean(losses.dense), sparse: mean(losses.sparse) },
  };
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, JSON.stringify(result, null, 1));
  console.log(
    `\nort dense ${dense.toFixed(2)} steps/s · ort sparse ${sparse.toFixed(2)} steps/s · sparse/dense ${(sparse / dense).toFixed(2)}× ` +
      `(median of the per-window ratios ${paired.toFixed(2)}×) · ` +
      `share above ε ${(100 * mean(above.sparse)).toFixed(1)} % (sparse windows), ${(100 * mean(above.dense)).toFixed(1)} % (dense windows)` +
      (torch.rate
        ? `\nPyTorch dense ${torch.rate.toFixed(2)} steps/s · ort sparse/torch ${(sparse / torch.rate).toFixed(2)}× · ort dense/torch ${(dense / torch.rate).toFixed(2)}×`
        : `\n${torch.line}`) +
      `\n→ ${path.relative(repoRoot, outFile)}`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
