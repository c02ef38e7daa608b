/**
 * Flow speed bench, one run on one machine (shared/docs/PERF_NOTES.md): the engine's trainer
 * with the CF objective on the tfjs backend `initTfjs()` picks and on the ort training backend
 * (train/ort: the whole step as one ONNX graph), against the PyTorch reference
 * (shared/bench/flow_torch.py) and ONNX Runtime scoring of the flow that script exports.
 * The ort section also splits one step by ORT kernel class (a profiled session) and reports
 * GFLOP/s against this CPU's peak.
 *
 *   npm run bench            (= node bin/run-ts.mjs bench/flow-speed.ts)
 *
 * Flow: D=128, H=512, 8 blocks; training batch 256 inliers + 256 contrast; scoring batch 4096.
 * Order: ours (tfjs) → ours (ort) → torch (subprocess; it keeps only idle-CPU windows, so nothing else runs in this
 * process meanwhile) → ours (ort again: its rate is the median of the windows on both sides of torch's) → ORT. Like flow_torch.py, every timing window records how many cores
 * *other* processes used, and rates are medians over the clean windows (< 0.15 foreign cores)
 * when there are enough of them. Results also go to bench/results/flow-speed.json.
 *
 * Environment:
 *   BENCH_STEPS          timed training steps (default 30)
 *   BENCH_WARMUP         warm-up training steps, in a separate trainFlow call (default 5)
 *   BENCH_SCORE_REPEATS  timed scoring calls of 4096 rows (default 5)
 *   BENCH_SPLIT_REPEATS  repeats of the forward / forward+backward / Adam split (default 5)
 *   BENCH_SKIP_TORCH=1   skip the PyTorch reference (ORT then needs BENCH_ONNX)
 *   BENCH_ONNX           an existing flow_score.onnx to score with ORT instead of the fresh export
 *   BENCH_ORT_THREADS    ORT intra-op threads (default 2)
 *   BENCH_TORCH_TIMEOUT  seconds before the torch run is stopped (default 240, keeps the run ≲ 6 min);
 *                        lines it printed until then are still used, and the ONNX file is then
 *                        exported separately from the same script's model
 *   CFSTUDIO_SHARED      the shared folder (default: ../shared next to the repository)
 *   CFSTUDIO_BACKEND     force the tfjs backend (tensorflow | wasm | cpu), see tfjsBackend.ts
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initTfjs, tf } from '../src/main/engine/backend/tfjsBackend';
import { flowLogProb, paramTensors } from '../src/main/engine/flow/flowModel';
import { initFlowParams, paramCount } from '../src/main/engine/flow/params';
import { makeFlowSpec } from '../src/main/engine/flow/spec';
import { runTfGraph } from '../src/main/engine/flow/tfjsExecutor';
import { Adam } from '../src/main/engine/train/adam';
import { cfObjective } from '../src/main/engine/train/objectives/cf';
import { DEFAULT_ORT_STEPS_PER_CALL, trainSessionOptions } from '../src/main/engine/train/ort/ortStepRunner';
import { buildTrainLoopModel } from '../src/main/engine/train/ort/trainLoopGraph';
import { ADAM_MARK } from '../src/main/engine/train/ort/trainStepGraph';
import { DEFAULT_TRAIN, trainFlow, type TrainProgress } from '../src/main/engine/train/trainer';
import { matrix, type Matrix } from '../src/main/engine/util/matrix';
import { Rng } from '../src/main/engine/util/rng';

// ---------------------------------------------------------------- configuration

const D = 128;
const H = 512;
const NB = 8;
const HALF = D / 2;
const BATCH = 256; // inliers; the contrast batch has the same size
const SCORE_B = 4096;
const DATA_ROWS = 4096;

/** Matrix-product FLOPs, the formula of flow_torch.py (forward 2·m·n·k per dense layer, train ×3). */
const DENSE_MACS_PER_ROW = NB * (HALF * H + H * H + H * 2 * HALF);
const TRAIN_FLOP = 3 * 2 * DENSE_MACS_PER_ROW * (2 * BATCH); // ≈ 8.86 GFLOP
const SCORE_FLOP = 2 * DENSE_MACS_PER_ROW * SCORE_B; // ≈ 23.6 GFLOP
/** a window counts as clean when other processes used less than this many cores (as flow_torch.py) */
const FOREIGN_MAX = 0.15;
/** training steps per timing window (the trainer yields to the event loop every 5 steps) */
const STEPS_PER_WINDOW = 5;

function envInt(name: string, def: number, min = 1): number {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number.parseInt(v, 10);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name}=${v}: expected an integer ≥ ${min}`);
  return n;
}
const STEPS = envInt('BENCH_STEPS', 30, 2);
const WARMUP = envInt('BENCH_WARMUP', 5);
const SCORE_REPEATS = envInt('BENCH_SCORE_REPEATS', 5);
const SPLIT_REPEATS = envInt('BENCH_SPLIT_REPEATS', 5);
const ORT_THREADS = envInt('BENCH_ORT_THREADS', 2);
const TORCH_TIMEOUT_S = envInt('BENCH_TORCH_TIMEOUT', 240);
const SKIP_TORCH = process.env.BENCH_SKIP_TORCH === '1';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const sharedDir = path.resolve(process.env.CFSTUDIO_SHARED || path.join(repoRoot, '..', 'shared'));
const torchScript = path.join(sharedDir, 'bench', 'flow_torch.py');
const PYTHON = '/usr/bin/python3';
const resultsFile = path.join(benchDir, 'results', 'flow-speed.json');

// ---------------------------------------------------------------- helpers

const log = (s = ''): void => void process.stderr.write(s + '\n');
const median = (a: number[]): number => {
  if (a.length === 0) return NaN;
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const r = (x: number, d = 2): number => (Number.isFinite(x) ? Number(x.toFixed(d)) : x);
const mib = (bytes: number): number => r(bytes / 2 ** 20, 1);
const peakRssMiB = (): number => r(process.resourceUsage().maxRSS / 1024, 1); // maxRSS is in KiB
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

/** A point in time with the machine's busy CPU seconds and this process's own (as flow_torch.py). */
interface CpuMark {
  t: number;
  busy: number;
  own: number;
}
function mark(): CpuMark {
  let busy = NaN;
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    busy = (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch {
    // no /proc: foreign load unknown (NaN), every window then counts as clean
  }
  const u = process.cpuUsage();
  return { t: performance.now(), busy, own: (u.user + u.system) / 1e6 };
}
interface Window {
  seconds: number;
  ownCores: number;
  foreignCores: number;
}
function windowOf(a: CpuMark, b: CpuMark): Window {
  const seconds = (b.t - a.t) / 1000;
  const own = b.own - a.own;
  return { seconds, ownCores: own / seconds, foreignCores: Math.max(0, (b.busy - a.busy - own) / seconds) };
}
const isClean = (w: Window): boolean => !(w.foreignCores >= FOREIGN_MAX);

/** Per-step intervals (ms) and the rates of windows of STEPS_PER_WINDOW steps between progress marks. */
function stepWindows(marks: CpuMark[]): { intervals: number[]; wRates: number[]; wins: Window[] } {
  const intervals = marks.slice(1).map((m, i) => m.t - marks[i].t);
  const wRates: number[] = [];
  const wins: Window[] = [];
  for (let i = 0; i + STEPS_PER_WINDOW < marks.length; i += STEPS_PER_WINDOW) {
    const w = windowOf(marks[i], marks[i + STEPS_PER_WINDOW]);
    wins.push(w);
    wRates.push(STEPS_PER_WINDOW / w.seconds);
  }
  return { intervals, wRates, wins };
}

/**
 * The same for a trainer that runs several steps per call and reports them together (ort):
 * windows of whole calls, ≥ minSteps steps each, from one call's last mark to a later one's.
 * A mark ends a call when the next mark comes more than 10 ms later (marks of one call come
 * back to back). Intervals are per-step means of the windows.
 */
function callWindows(
  marks: CpuMark[],
  minSteps: number,
): { intervals: number[]; wRates: number[]; wins: Window[]; stepsPerCall: number[] } {
  const ends = marks
    .map((_, i) => i)
    .filter((i) => i === marks.length - 1 || marks[i + 1].t - marks[i].t > 10);
  const stepsPerCall = ends.slice(1).map((e, k) => e - ends[k]);
  const wRates: number[] = [];
  const wins: Window[] = [];
  const intervals: number[] = [];
  let from = 0;
  for (let k = 1; k < ends.length; k++) {
    const steps = ends[k] - ends[from];
    if (steps < minSteps) continue;
    const w = windowOf(marks[ends[from]], marks[ends[k]]);
    wins.push(w);
    wRates.push(steps / w.seconds);
    intervals.push((w.seconds * 1000) / steps);
    from = k;
  }
  return { intervals, wRates, wins, stepsPerCall };
}

/** Median rate over the clean windows, or over all of them (flagged) when fewer than half are clean. */
function cleanMedian(
  rates: number[],
  windows: Window[],
): { rate: number; clean: number; total: number; loaded: boolean } {
  const clean = rates.filter((_, i) => isClean(windows[i]));
  const loaded = clean.length < Math.max(1, Math.ceil(rates.length / 2));
  return { rate: median(loaded ? rates : clean), clean: clean.length, total: rates.length, loaded };
}

/** Waits (up to maxS) for a 1 s window in which other processes use < 0.1 core; returns the last load seen. */
async function waitIdle(maxS: number): Promise<number> {
  const t0 = performance.now();
  let fo = NaN;
  while (performance.now() - t0 < maxS * 1000) {
    const a = mark();
    await sleep(1000);
    fo = windowOf(a, mark()).foreignCores;
    if (!(fo >= 0.1)) break;
  }
  return r(fo);
}

function randn(rows: number, cols: number, rng: Rng): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

interface MemInfo {
  numTensors: number;
  numBytes: number;
  wasmHeapMiB?: number;
}
function memInfo(): MemInfo {
  const m = tf.memory();
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = be.wasm?.HEAPU8?.byteLength;
  return { numTensors: m.numTensors, numBytes: m.numBytes, ...(heap ? { wasmHeapMiB: mib(heap) } : {}) };
}

/** Minimal .npy reader for the small float32 reference arrays flow_torch.py writes (any rank). */
function readNpyF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const major = b[6];
  const pre = major === 1 ? 10 : 12;
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const header = b.subarray(pre, pre + hlen).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${file}: not float32 (${header.trim()})`);
  const out = new Float32Array((b.length - pre - hlen) / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(pre + hlen + 4 * i);
  return out;
}

// ---------------------------------------------------------------- 1. ours

interface OursResult {
  backend: string;
  package: string;
  threads: number;
  tfjsVersion: string;
  attempts: { name: string; ok: boolean; reason?: string }[];
  params: number;
  warmupSteps: number;
  timedSteps: number;
  /** median over clean windows of STEPS_PER_WINDOW steps (all windows if too few are clean) */
  trainStepsPerSec: number;
  trainWindows: number[];
  trainWindowForeignCores: number[];
  trainCleanWindows: string;
  trainLoaded: boolean;
  /** all timed steps, first to last progress callback */
  trainStepsPerSecAllSteps: number;
  /** the whole trainFlow call, including its setup and final snapshot */
  trainStepsPerSecWall: number;
  trainStepMsMedian: number;
  trainStepMsMin: number;
  trainStepMsMax: number;
  trainGflops: number;
  trainOwnCores: number;
  idleBeforeForeignCores: number;
  finalLoss: number | null;
  scoreSamplesPerSec: number;
  scoreSamplesPerSecAll: number[];
  scoreForeignCores: number[];
  scoreLoaded: boolean;
  scoreGflops: number;
  split: {
    stepMs: number;
    forwardMs: number;
    forwardBackwardMs: number;
    backwardMs: number;
    adamMs: number;
    otherMs: number;
  };
  matmul512Gflops: number;
  memory: {
    start: MemInfo;
    afterWarmup: MemInfo;
    afterTimed: MemInfo;
    duringTimedMin: number;
    duringTimedMax: number;
    end: MemInfo;
    flat: boolean;
    peakRssMiBAfterOurs: number;
  };
}

/** The bench's CF training: the same flow, data and settings on either backend. */
function benchTraining(backend: 'tfjs' | 'ort') {
  const spec = makeFlowSpec(D, { hidden: H, blocks: NB }, 0);
  const init = initFlowParams(spec, 0);
  const rng = new Rng(12345);
  const inliers = randn(DATA_ROWS, D, rng);
  const contrast = randn(DATA_ROWS, D, rng);
  const train = (steps: number, params: typeof init, onProgress?: (p: TrainProgress) => void) =>
    trainFlow({
      spec,
      objective: cfObjective,
      inliers,
      heldOut: null,
      contrast,
      eps: 0,
      config: { ...DEFAULT_TRAIN, steps },
      init: params,
      dataInit: false,
      progressEvery: 1,
      trainBackend: backend,
      // the dense step, as PyTorch's: on random data with ε = 0 no contrast row is above ε, and the
      // sparse step (bench/sparse-speed.ts measures it on real features) would skip their backward
      contrastBackward: 'dense',
      onProgress,
    });
  return { spec, init, rng, train };
}

async function benchOurs(): Promise<OursResult> {
  const info = await initTfjs();
  log(
    `[ours] backend ${info.backend} from ${info.package} (tfjs ${info.tfjsVersion}, threads ${info.threads || 'n/a'})`,
  );
  for (const a of info.attempts) if (!a.ok) log(`       not used: ${a.name}: ${a.reason}`);

  const { spec, init, rng, train: trainWith } = benchTraining('tfjs');
  const xScore = randn(SCORE_B, D, rng);
  const memStart = memInfo();

  const marks: CpuMark[] = [];
  const tensorsDuring: number[] = [];
  let lastLoss: number | null = null;
  const train = (steps: number, params: typeof init, timed: boolean) =>
    trainWith(
      steps,
      params,
      timed
        ? (p) => {
            marks.push(mark());
            tensorsDuring.push(tf.memory().numTensors);
            lastLoss = p.loss;
          }
        : undefined,
    );

  log(`[ours] warm-up: ${WARMUP} steps (separate trainFlow call)`);
  const warm = await train(WARMUP, init, false);
  const memWarm = memInfo();

  const idleFo = await waitIdle(20);
  log(`[ours] timing ${STEPS} steps (other processes just before: ${idleFo} cores)`);
  const t0 = performance.now();
  const res = await train(STEPS, warm.params, true);
  const wall = (performance.now() - t0) / 1000;
  const memTimed = memInfo();

  // windows of STEPS_PER_WINDOW steps between progress callbacks: excludes the trainer's setup
  // (variables, Adam state) and final snapshot; falls back to the trainer's own rate if
  // onProgress did not fire per step
  const { intervals, wRates, wins } = stepWindows(marks);
  const all = marks.length >= 2 ? windowOf(marks[0], marks[marks.length - 1]) : null;
  const allRate = all ? (marks.length - 1) / all.seconds : res.stepsPerSec;
  const tr = wRates.length ? cleanMedian(wRates, wins) : { rate: allRate, clean: 0, total: 0, loaded: true };
  const stepMs = intervals.length ? median(intervals) : 1000 / tr.rate;
  log(
    `[ours] train ${r(tr.rate, 3)} steps/s (clean windows ${tr.clean}/${tr.total}${tr.loaded ? ', LOADED machine' : ''}; ` +
      `all steps ${r(allRate, 3)}/s; median step ${r(stepMs, 0)} ms; foreign cores ${wins.map((w) => r(w.foreignCores)).join(' ')})`,
  );

  // scoring: flowLogProb on 4096 rows, one warm-up + SCORE_REPEATS
  const model = { spec, params: res.params };
  flowLogProb(model, xScore);
  await waitIdle(10);
  const scoreRates: number[] = [];
  const scoreWins: Window[] = [];
  for (let i = 0; i < SCORE_REPEATS; i++) {
    const a = mark();
    const lp = flowLogProb(model, xScore);
    const w = windowOf(a, mark());
    if (!Number.isFinite(lp[0])) throw new Error('scoring returned a non-finite log p');
    scoreRates.push(SCORE_B / w.seconds);
    scoreWins.push(w);
  }
  const sc = cleanMedian(scoreRates, scoreWins);
  log(
    `[ours] score ${Math.round(sc.rate)} samples/s (${scoreRates.map((x) => Math.round(x)).join(', ')}; clean ${sc.clean}/${sc.total}${sc.loaded ? ', LOADED machine' : ''})`,
  );

  // where time goes: the objective graph forward only (no tape), then forward + gradients
  // (tf.variableGrads over one variable per parameter, without Adam), then Adam alone,
  // against the median step of the real trainer
  const obj = cfObjective(spec, BATCH, BATCH);
  const pt = paramTensors(spec, res.params);
  const vars: Record<string, tf.Variable> = {};
  for (const [k, v] of Object.entries(pt)) vars[k] = tf.variable(v, true, `flowSpeedBench/${k}`);
  const bx = randn(BATCH, D, rng);
  const by = randn(BATCH, D, rng);
  const xT = tf.tensor2d(bx.data, [BATCH, D]);
  const yT = tf.tensor2d(by.data, [BATCH, D]);
  const epsT = tf.scalar(0);
  const forward = (): void => {
    const loss = tf.tidy(() => runTfGraph(obj.graph, { ...pt, x: xT, y: yT, eps: epsT }).loss);
    loss.dataSync();
    loss.dispose();
  };
  const forwardBackward = (): void => {
    const { value, grads } = tf.variableGrads(
      () => runTfGraph(obj.graph, { ...vars, x: xT, y: yT, eps: epsT }).loss as tf.Scalar,
      Object.values(vars),
    );
    value.dataSync();
    const g = Object.values(grads);
    g[0].dataSync(); // backends that run asynchronously: wait for the gradients too
    tf.dispose(g);
    value.dispose();
  };
  const timeMs = (fn: () => void, n: number): number => {
    fn();
    const ts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      fn();
      ts.push(performance.now() - t);
    }
    return median(ts);
  };
  const fMs = timeMs(forward, SPLIT_REPEATS);
  const fbMs = timeMs(forwardBackward, SPLIT_REPEATS);
  tf.dispose([...Object.values(pt), ...Object.values(vars), xT, yT, epsT]);

  // the optimizer alone: Adam.apply on one flat variable holding all parameters (the layout
  // the trainer uses at the time of writing); NaN if adam.ts changed its interface
  let adamMs = NaN;
  try {
    const n = paramCount(init);
    const z = tf.zeros([n]);
    const theta = tf.variable(z, true, 'flowSpeedBench/theta');
    z.dispose(); // the variable holds its own reference to the buffer
    const grad = tf.randomNormal([n]);
    const adam = new Adam({ theta }, { lr: 1e-4, totalSteps: 1000, clipNorm: 10 });
    adamMs = timeMs(() => {
      adam.apply({ theta: grad }); // syncs by itself (reads the gradient norm)
    }, SPLIT_REPEATS);
    adam.dispose();
    tf.dispose([theta, grad]);
  } catch (e) {
    log(`[ours] Adam timing failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  // the kernel alone: a plain 512×512×512 product
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  const mmMs = timeMs(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }, 20);
  tf.dispose([a, b]);
  const memEnd = memInfo();

  const dMin = tensorsDuring.length ? Math.min(...tensorsDuring) : NaN;
  const dMax = tensorsDuring.length ? Math.max(...tensorsDuring) : NaN;
  return {
    backend: info.backend,
    package: info.package,
    threads: info.threads,
    tfjsVersion: info.tfjsVersion,
    attempts: info.attempts,
    params: paramCount(init),
    warmupSteps: WARMUP,
    timedSteps: STEPS,
    trainStepsPerSec: r(tr.rate, 3),
    trainWindows: wRates.map((x) => r(x, 3)),
    trainWindowForeignCores: wins.map((w) => r(w.foreignCores)),
    trainCleanWindows: `${tr.clean}/${tr.total}`,
    trainLoaded: tr.loaded,
    trainStepsPerSecAllSteps: r(allRate, 3),
    trainStepsPerSecWall: r(res.steps / wall, 3),
    trainStepMsMedian: r(stepMs, 1),
    trainStepMsMin: r(Math.min(...intervals), 1),
    trainStepMsMax: r(Math.max(...intervals), 1),
    trainGflops: r((tr.rate * TRAIN_FLOP) / 1e9, 1),
    trainOwnCores: all ? r(all.ownCores) : NaN,
    idleBeforeForeignCores: idleFo,
    finalLoss: lastLoss,
    scoreSamplesPerSec: Math.round(sc.rate),
    scoreSamplesPerSecAll: scoreRates.map((x) => Math.round(x)),
    scoreForeignCores: scoreWins.map((w) => r(w.foreignCores)),
    scoreLoaded: sc.loaded,
    scoreGflops: r(((sc.rate / SCORE_B) * SCORE_FLOP) / 1e9, 1),
    split: {
      stepMs: r(stepMs, 1),
      forwardMs: r(fMs, 1),
      forwardBackwardMs: r(fbMs, 1),
      backwardMs: r(fbMs - fMs, 1),
      adamMs: r(adamMs, 1),
      otherMs: r(stepMs - fbMs - (Number.isFinite(adamMs) ? adamMs : 0), 1),
    },
    matmul512Gflops: r((2 * 512 ** 3) / (mmMs / 1000) / 1e9, 1),
    memory: {
      start: memStart,
      afterWarmup: memWarm,
      afterTimed: memTimed,
      duringTimedMin: dMin,
      duringTimedMax: dMax,
      end: memEnd,
      flat: memTimed.numTensors === memWarm.numTensors && dMin === dMax,
      peakRssMiBAfterOurs: peakRssMiB(),
    },
  };
}

// ---------------------------------------------------------------- 1b. ours: ort training step

/** This CPU's single-precision peak: cores × GHz × FLOPs/cycle from its vector FMA width. */
function cpuPeak(): { gflops: number; note: string } {
  let flags = '';
  let mhz = NaN;
  try {
    const info = fs.readFileSync('/proc/cpuinfo', 'utf8');
    flags = /^flags\s*:\s*(.*)$/m.exec(info)?.[1] ?? '';
    mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1]);
  } catch {
    // no /proc/cpuinfo: peak unknown
  }
  if (!Number.isFinite(mhz)) mhz = os.cpus()[0]?.speed ?? NaN;
  const has = (f: string) => new RegExp(`\\b${f}\\b`).test(flags);
  // two FMA pipes: 2 × lanes × 2 FLOPs (multiply + add) per cycle
  const perCycle = has('avx512f') ? 64 : has('fma') && has('avx2') ? 32 : has('avx') ? 16 : 8;
  const isa = has('avx512f') ? 'AVX-512 FMA' : has('fma') ? 'AVX2 FMA' : has('avx') ? 'AVX' : 'SSE';
  const cores = os.availableParallelism();
  const gflops = (cores * mhz * perCycle) / 1000;
  return {
    gflops: r(gflops, 1),
    note: `${cores} cores × ${(mhz / 1000).toFixed(2)} GHz × ${perCycle} FLOP/cycle (${isa}, 2 FMA pipes; nominal /proc/cpuinfo clock: boost clocks go higher, so shares of it are upper bounds — torch sgemm reached 169 GFLOP/s here)`,
  };
}

interface OrtTrainResult {
  status: 'ok' | 'failed';
  reason?: string;
  threads?: number;
  /** K: training steps per ONNX Runtime call */
  stepsPerCall?: number;
  buildMs?: number;
  trainStepsPerSec?: number;
  trainWindows?: number[];
  trainWindowForeignCores?: number[];
  trainCleanWindows?: string;
  trainLoaded?: boolean;
  trainStepMsMedian?: number;
  trainGflops?: number;
  finalLoss?: number | null;
  /** median ms of one step: session.run (JS side), ORT's own model_run, kernels by class, JS glue */
  split?: Record<string, number>;
}

/**
 * ort training speed; `profile` adds the per-kernel split. Run twice, before and after torch:
 * this machine's speed drifts by ±20 % over minutes (torch's own windows moved 7.3 → 5.0 steps/s
 * within one run), and ort's windows on both sides of torch's bound the ratio against it.
 */
async function benchOrtTrain(label: string, profile: boolean): Promise<OrtTrainResult> {
  try {
    const { spec, rng, init, train: trainWith } = benchTraining('ort');
    const marks: CpuMark[] = [];
    let lastLoss: number | null = null;
    const train = (steps: number, params: typeof init, timed: boolean) =>
      trainWith(
        steps,
        params,
        timed
          ? (p) => {
              marks.push(mark());
              lastLoss = p.loss;
            }
          : undefined,
      );
    log(`[ort-train${label}] warm-up: ${WARMUP} steps (separate trainFlow call, trainBackend 'ort')`);
    const warm = await train(WARMUP, init, false);
    const idleFo = await waitIdle(20);
    // up to K steps per ONNX Runtime call, reported together: time whole calls, windows of ≥ K
    // steps, at least 5 of them (the first call runs one step, to measure the speed)
    const K = DEFAULT_ORT_STEPS_PER_CALL;
    const steps = Math.max(Math.ceil(STEPS / K), 5) * K + K + 1;
    log(
      `[ort-train${label}] timing ${steps} steps, ${K} per call (other processes just before: ${idleFo} cores)`,
    );
    await train(steps, warm.params, true);
    const { intervals, wRates, wins, stepsPerCall } = callWindows(marks, K);
    log(`[ort-train${label}] steps per call: ${stepsPerCall.join(' ')}`);
    const tr = cleanMedian(wRates, wins);
    const stepMs = median(intervals);
    log(
      `[ort-train${label}] train ${r(tr.rate, 3)} steps/s (clean windows ${tr.clean}/${tr.total}${tr.loaded ? ', LOADED machine' : ''}; median step ${r(stepMs, 0)} ms)`,
    );
    const timing = {
      status: 'ok' as const,
      threads: ORT_THREADS,
      stepsPerCall: K,
      trainStepsPerSec: r(tr.rate, 3),
      trainWindows: wRates.map((x) => r(x, 3)),
      trainWindowForeignCores: wins.map((w) => r(w.foreignCores)),
      trainCleanWindows: `${tr.clean}/${tr.total}`,
      trainLoaded: tr.loaded,
      trainStepMsMedian: r(stepMs, 1),
      trainGflops: r((tr.rate * TRAIN_FLOP) / 1e9, 1),
      finalLoss: lastLoss,
    };
    if (!profile) return timing;

    // where time goes: the same step graph in a profiled session (ORT's per-kernel times), and
    // session.run timed from JS (the difference is the binding: feeds, output copies, scheduling)
    const t0 = performance.now();
    const model = buildTrainLoopModel({
      spec,
      objective: cfObjective(spec, BATCH, BATCH),
      bx: BATCH,
      by: BATCH,
      adam: { lr: 1e-3, totalSteps: 1000, clipNorm: 10 },
    });
    const buildMs = performance.now() - t0;
    const ort = await import('onnxruntime-node');
    const profDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-ortprof-'));
    const session = await ort.InferenceSession.create(model.bytes, {
      ...trainSessionOptions({ threads: ORT_THREADS }),
      enableProfiling: true,
      profileFilePrefix: path.join(profDir, 'step'),
    });
    const P = model.paramCount;
    const theta = new Float32Array(P);
    for (const s of model.slots) theta.set(warm.params[s.name], s.offset);
    const bx = randn(K * BATCH, D, rng);
    const by = randn(K * BATCH, D, rng);
    const feeds: Record<string, import('onnxruntime-node').Tensor> = {
      theta: new ort.Tensor('float32', theta, [P]),
      adam_m: new ort.Tensor('float32', new Float32Array(P), [P]),
      adam_v: new ort.Tensor('float32', new Float32Array(P), [P]),
      step: new ort.Tensor('float32', Float32Array.of(0), []),
      eps: new ort.Tensor('float32', Float32Array.of(0), []),
      xs: new ort.Tensor('float32', bx.data, [K, BATCH, D]),
      ys: new ort.Tensor('float32', by.data, [K, BATCH, D]),
    };
    // as OrtStepRunner: each step's state outputs are the next step's inputs
    const runMs: number[] = [];
    for (let i = 0; i < 3 + SPLIT_REPEATS; i++) {
      const t = performance.now();
      const out = await session.run(feeds);
      if (i >= 3) runMs.push((performance.now() - t) / K);
      feeds.theta = out.theta_next as typeof feeds.theta;
      feeds.adam_m = out.adam_m_next as typeof feeds.theta;
      feeds.adam_v = out.adam_v_next as typeof feeds.theta;
    }
    session.endProfiling(); // writes step_<date>.json into profDir
    await session.release();
    const profName = fs.readdirSync(profDir).find((f) => f.endsWith('.json'));
    if (!profName) throw new Error(`ONNX Runtime wrote no profile into ${profDir}`);
    const profFile = path.join(profDir, profName);
    const events = JSON.parse(fs.readFileSync(profFile, 'utf8')) as {
      cat?: string;
      name: string;
      dur: number;
      args?: { op_name?: string; input_type_shape?: Record<string, number[]>[] };
    }[];
    fs.rmSync(profDir, { recursive: true, force: true });
    const runs = events.filter((e) => e.name === 'model_run').slice(3);
    // the kernels inside the Loop (the Loop node's own time is their sum: left out)
    const kernels = events.filter(
      (e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && e.args?.op_name !== 'Loop',
    );
    const skip = kernels.length - (kernels.length / (3 + SPLIT_REPEATS)) * SPLIT_REPEATS;
    const bucket: Record<string, number> = {};
    let products = 0;
    for (const e of kernels.slice(skip)) {
      const op = e.args?.op_name ?? '?';
      const first = e.args?.input_type_shape?.[0];
      const dims = first ? Object.values(first)[0] : [];
      // optimizer nodes are named f/adam.* or *_next/* (trainStepGraph.ts); the flat θ, m, v
      // are split into groups before the Loop and concatenated after it, once per call
      const kind = /Gemm|MatMul/.test(op)
        ? 'matrix products (Gemm/MatMul)'
        : new RegExp(`f/${ADAM_MARK.replace('.', '\\.')}|_next/`).test(e.name)
          ? 'Adam + clipping, per state group'
          : e.name.startsWith('outer/') || (dims.length === 1 && dims[0] === P)
            ? 'flat state ↔ groups, once per call'
            : 'other forward/backward ops (elementwise, Gather, Concat, reductions)';
      bucket[kind] = (bucket[kind] ?? 0) + e.dur / 1000 / (SPLIT_REPEATS * K);
      if (kind.startsWith('matrix')) products += e.dur / 1000 / (SPLIT_REPEATS * K);
    }
    const runJs = median(runMs);
    const runOrt = median(runs.map((e) => e.dur / 1000 / K));
    const kernelSum = Object.values(bucket).reduce((a, b) => a + b, 0);
    const split: Record<string, number> = {
      'step (trainer, median)': r(stepMs, 1),
      'session.run from JS, per step': r(runJs, 1),
      'ORT model_run, per step': r(runOrt, 1),
      ...Object.fromEntries(Object.entries(bucket).map(([k, v]) => [k, r(v, 1)])),
      'ORT executor overhead (model_run − kernels)': r(runOrt - kernelSum, 1),
      'binding (session.run − model_run: feeds, output copies)': r(runJs - runOrt, 1),
      'trainer glue (step − session.run: batches, noise, progress)': r(stepMs - runJs, 1),
      'matrix-product GFLOP/s inside Gemm kernels': r(TRAIN_FLOP / (products / 1000) / 1e9, 1),
    };
    return { ...timing, buildMs: r(buildMs, 0), split };
  } catch (e) {
    return { status: 'failed', reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

// ---------------------------------------------------------------- 2. torch

interface TorchResult {
  status: 'ok' | 'partial' | 'skipped' | 'failed';
  reason?: string;
  header?: string;
  /** the BLAS library torch's libtorch_cpu.so resolves to, and what it is */
  blas?: { path: string; kind: string; slow: boolean };
  trainStepsPerSec?: number;
  trainWindows?: string;
  trainGflops?: number;
  scoreSamplesPerSec?: number;
  scoreGflops?: number;
  sgemm512Gflops?: number;
  windowNotes?: string[];
  onnxPath?: string;
  onnxFrom?: string;
  seconds?: number;
}

function torchProbe(): { error: string } | { version: string; dir: string } {
  if (!fs.existsSync(PYTHON)) return { error: `${PYTHON} not found` };
  const p = spawnSync(
    PYTHON,
    ['-c', 'import os, torch; print(torch.__version__); print(os.path.dirname(torch.__file__))'],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (p.status !== 0)
    return { error: (p.stderr || p.error?.message || 'import torch failed').trim().split('\n').pop()! };
  const [version, dir] = p.stdout.trim().split('\n');
  return { version, dir };
}

/** Which BLAS torch's CPU library loads (Debian's torch links the libblas.so.3 alternative). */
function torchBlas(torchDir: string): TorchResult['blas'] {
  const lib = path.join(torchDir, 'lib', 'libtorch_cpu.so');
  if (!fs.existsSync(lib)) return undefined;
  const p = spawnSync('ldd', [lib], { encoding: 'utf8', timeout: 30_000 });
  if (p.status !== 0) return undefined;
  const lines = p.stdout.split('\n');
  const hit =
    lines.find((l) => /openblas|mkl|blis|atlas/i.test(l)) ??
    lines.find((l) => /libblas\.so|libcblas\.so/.test(l));
  const m = hit ? /=>\s*(\S+)/.exec(hit) : null;
  if (!m) return { path: '(none linked)', kind: 'none found by ldd (bundled?)', slow: false };
  let real = m[1];
  try {
    real = fs.realpathSync(m[1]);
  } catch {
    // keep the linked path
  }
  const kind = /openblas/i.test(real)
    ? 'OpenBLAS'
    : /mkl/i.test(real)
      ? 'MKL'
      : /blis/i.test(real)
        ? 'BLIS'
        : /atlas/i.test(real)
          ? 'ATLAS'
          : /\/blas\/libblas\.so/.test(real)
            ? 'netlib reference BLAS'
            : 'unknown';
  return { path: real, kind, slow: kind === 'netlib reference BLAS' };
}

async function benchTorch(): Promise<TorchResult> {
  if (SKIP_TORCH) return { status: 'skipped', reason: 'BENCH_SKIP_TORCH=1' };
  if (!fs.existsSync(torchScript))
    return { status: 'skipped', reason: `${torchScript} not found (set CFSTUDIO_SHARED)` };
  const probe = torchProbe();
  if ('error' in probe)
    return { status: 'skipped', reason: `skipped: apt-get install python3-torch (${probe.error})` };
  const blas = torchBlas(probe.dir);
  if (blas) log(`[torch] torch ${probe.version}, BLAS: ${blas.kind} (${blas.path})`);
  if (blas?.slow) {
    log(
      '[torch] WARNING: torch runs on the unoptimized reference BLAS here (no OpenBLAS installed), so it is',
    );
    log(
      '        far slower than PERF_NOTES (10 steps/s there); `apt-get install libopenblas0-pthread` switches it.',
    );
  }

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-flow-bench-'));
  log(
    `[torch] ${PYTHON} ${torchScript} --export   (cwd ${dir}; timeout ${TORCH_TIMEOUT_S} s; keeps idle-CPU windows only)`,
  );
  const t0 = performance.now();
  const out: string[] = [];
  const errTail: string[] = [];
  let timedOut = false;
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(PYTHON, [torchScript, '--export'], {
      cwd: dir,
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, TORCH_TIMEOUT_S * 1000);
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        out.push(line);
        log(`  [torch] ${line}`);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      errTail.push(...d.split('\n').filter(Boolean));
      errTail.splice(0, Math.max(0, errTail.length - 20));
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(e.message);
    });
    child.on('close', (c, sig) => {
      clearTimeout(timer);
      if (buf) out.push(buf);
      resolve(c ?? `signal ${sig}`);
    });
  });
  const text = out.join('\n');
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const res: TorchResult = {
    status: 'ok',
    blas,
    header: out.find((l) => l.startsWith('torch ')),
    trainStepsPerSec: num(/train steps\/s median ([\d.]+)/),
    trainWindows: /train steps\/s median [\d.]+\s+windows (\[[^\]]*\])/.exec(text)?.[1],
    trainGflops: num(/train steps\/s median[^\n]*GFLOP\/s ([\d.]+)/),
    scoreSamplesPerSec: num(/score batch\d+:[^\n]*samples\/s ([\d.]+)/),
    scoreGflops: num(/score batch\d+:[^\n]*GFLOP\/s ([\d.]+)/),
    sgemm512Gflops: num(/sgemm 512\^3 GFLOP\/s ([\d.]+)/),
    windowNotes: out.filter((l) => l.includes('clean ')).map((l) => l.trim()),
  };
  const onnx = path.join(dir, 'flow_score.onnx');
  if (fs.existsSync(onnx)) {
    res.onnxPath = onnx;
    res.onnxFrom = 'flow_torch.py --export';
  }
  const why = timedOut
    ? `stopped after the ${TORCH_TIMEOUT_S} s timeout (BENCH_TORCH_TIMEOUT)`
    : `exit ${code}`;
  if (res.trainStepsPerSec === undefined) {
    res.status = 'failed';
    res.reason = `${why}; ${errTail.slice(-3).join(' | ') || 'no train line in its output'}`;
  } else if (code !== 0 || res.scoreSamplesPerSec === undefined) {
    res.status = 'partial';
    res.reason = why;
  }
  if (!res.onnxPath) {
    // the script did not get to its export: export the same model class (untrained; only the
    // speed matters) so ONNX Runtime still has something to score
    log('[torch] exporting flow_score.onnx separately (Flow() of flow_torch.py, untrained)');
    const py = [
      'import sys, torch, numpy as np',
      `sys.path.insert(0, ${JSON.stringify(path.dirname(torchScript))})`,
      'import flow_torch as F',
      'torch.manual_seed(0); m = F.Flow().eval(); xs = torch.randn(16, F.D)',
      "torch.onnx.export(m, xs, './flow_score.onnx', opset_version=17, input_names=['x'], output_names=['logp'], dynamic_axes={'x': {0: 'n'}, 'logp': {0: 'n'}})",
      "np.save('./ref_x.npy', xs[:8].numpy())",
      'with torch.no_grad(): np.save("./ref_logp.npy", m(xs[:8]).numpy())',
    ].join('\n');
    const p = spawnSync(PYTHON, ['-c', py], { cwd: dir, encoding: 'utf8', timeout: 180_000 });
    if (p.status === 0 && fs.existsSync(onnx)) {
      res.onnxPath = onnx;
      res.onnxFrom = 'separate export of flow_torch.Flow() (the script did not reach its export)';
    } else
      log(`[torch] separate export failed: ${(p.stderr || p.error?.message || '').trim().split('\n').pop()}`);
  }
  res.seconds = r((performance.now() - t0) / 1000, 1);
  return res;
}

// ---------------------------------------------------------------- 3. ORT

interface OrtResult {
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  version?: string;
  threads?: number;
  onnxPath?: string;
  runsPerWindow?: number;
  scoreSamplesPerSec?: number;
  windows?: number[];
  foreignCores?: number[];
  loaded?: boolean;
  scoreGflops?: number;
  refMaxAbsDiff?: number;
}

async function benchOrt(onnxPath: string | undefined): Promise<OrtResult> {
  const file = process.env.BENCH_ONNX || onnxPath;
  if (!file) return { status: 'skipped', reason: 'no flow_score.onnx (torch did not run; set BENCH_ONNX)' };
  const require = createRequire(import.meta.url);
  let version = '?';
  try {
    version = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // the version is cosmetic
  }
  try {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: ORT_THREADS });
    const inName = session.inputNames[0];
    const outName = session.outputNames[0];
    log(
      `[ort] onnxruntime-node ${version}, ${ORT_THREADS} intra-op threads, ${file} (${inName} → ${outName})`,
    );

    // correctness: the reference rows the export wrote next to the model
    let refMaxAbsDiff: number | undefined;
    const rx = path.join(path.dirname(file), 'ref_x.npy');
    const rl = path.join(path.dirname(file), 'ref_logp.npy');
    if (fs.existsSync(rx) && fs.existsSync(rl)) {
      const x8 = readNpyF32(rx);
      const want = readNpyF32(rl);
      const got = (await session.run({ [inName]: new ort.Tensor('float32', x8, [x8.length / D, D]) }))[
        outName
      ].data as Float32Array;
      refMaxAbsDiff = 0;
      for (let i = 0; i < want.length; i++)
        refMaxAbsDiff = Math.max(refMaxAbsDiff, Math.abs(got[i] - want[i]));
    }

    const x = randn(SCORE_B, D, new Rng(777));
    const feeds = { [inName]: new ort.Tensor('float32', x.data, [SCORE_B, D]) };
    const once = async (): Promise<void> => {
      const o = await session.run(feeds);
      if (!Number.isFinite((o[outName].data as Float32Array)[0])) throw new Error('non-finite output');
    };
    for (let i = 0; i < 3; i++) await once();
    const t = performance.now();
    await once();
    const per = Math.max(1, Math.round(1500 / (performance.now() - t))); // ~1.5 s windows
    const rates: number[] = [];
    const wins: Window[] = [];
    for (let w = 0; w < 5; w++) {
      const a = mark();
      for (let i = 0; i < per; i++) await once();
      const win = windowOf(a, mark());
      rates.push((per * SCORE_B) / win.seconds);
      wins.push(win);
    }
    await session.release();
    const sc = cleanMedian(rates, wins);
    log(
      `[ort] score ${Math.round(sc.rate)} samples/s (windows ${rates.map(Math.round).join(', ')}; ${per} runs/window; clean ${sc.clean}/${sc.total})`,
    );
    return {
      status: 'ok',
      version,
      threads: ORT_THREADS,
      onnxPath: file,
      runsPerWindow: per,
      scoreSamplesPerSec: Math.round(sc.rate),
      windows: rates.map(Math.round),
      foreignCores: wins.map((w) => r(w.foreignCores)),
      loaded: sc.loaded,
      scoreGflops: r(((sc.rate / SCORE_B) * SCORE_FLOP) / 1e9, 1),
      refMaxAbsDiff: refMaxAbsDiff === undefined ? undefined : Number(refMaxAbsDiff.toPrecision(3)),
    };
  } catch (e) {
    return { status: 'failed', version, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

// ---------------------------------------------------------------- report

function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows
    .map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  '))
    .join('\n');
}

function memoryLine(ours: OursResult, peakRss: number): string {
  const m = ours.memory;
  const perCall = m.afterTimed.numTensors - m.afterWarmup.numTensors;
  const heap =
    m.afterTimed.wasmHeapMiB !== undefined && m.afterWarmup.wasmHeapMiB !== undefined
      ? `; wasm heap ${m.afterWarmup.wasmHeapMiB} → ${m.afterTimed.wasmHeapMiB} → ${m.end.wasmHeapMiB} MiB`
      : '';
  const within =
    m.duringTimedMin === m.duringTimedMax
      ? 'flat over the steps'
      : `NOT flat over the steps (${m.duringTimedMin}–${m.duringTimedMax})`;
  const across =
    perCall === 0
      ? 'flat across trainFlow calls'
      : `${perCall > 0 ? '+' : ''}${perCall} tensors left behind per trainFlow call (LEAK)`;
  return (
    `memory: numTensors start ${m.start.numTensors} → after warm-up call ${m.afterWarmup.numTensors} → after timed call ${m.afterTimed.numTensors} ` +
    `(during its steps ${m.duringTimedMin}–${m.duringTimedMax}) → end of ours ${m.end.numTensors}: ${within}, ${across}${heap}; ` +
    `peak RSS ${m.peakRssMiBAfterOurs} MiB after ours, ${peakRss} MiB at the end (this process; not the torch subprocess)`
  );
}

/** ort's result with the rate over its windows before and after torch (clean ones, as cleanMedian). */
function bracketOrt(
  before: OrtTrainResult,
  after: OrtTrainResult | null,
): OrtTrainResult & { before?: number; after?: number } {
  if (before.status !== 'ok' || !after || after.status !== 'ok') return before;
  const rates = [...before.trainWindows!, ...after.trainWindows!];
  const foreign = [...before.trainWindowForeignCores!, ...after.trainWindowForeignCores!];
  const clean = rates.filter((_, i) => !(foreign[i] >= FOREIGN_MAX));
  const loaded = clean.length < Math.max(1, Math.ceil(rates.length / 2));
  const rate = median(loaded ? rates : clean);
  return {
    ...before,
    trainStepsPerSec: r(rate, 3),
    trainWindows: rates,
    trainWindowForeignCores: foreign,
    trainCleanWindows: `${clean.length}/${rates.length}`,
    trainLoaded: loaded,
    trainGflops: r((rate * TRAIN_FLOP) / 1e9, 1),
    before: before.trainStepsPerSec,
    after: after.trainStepsPerSec,
  };
}

async function main(): Promise<void> {
  const started = new Date();
  const tAll = performance.now();
  log(
    `flow-speed bench: D=${D} H=${H} blocks=${NB}, batch ${BATCH}+${BATCH}, score batch ${SCORE_B}; ${os.cpus().length} CPUs, node ${process.version}`,
  );
  log(
    `train step ≈ ${(TRAIN_FLOP / 1e9).toFixed(2)} GFLOP, scoring ${SCORE_B} rows ≈ ${(SCORE_FLOP / 1e9).toFixed(1)} GFLOP (dense products, flow_torch.py formula)`,
  );

  const ours = await benchOurs();
  const ortBefore = await benchOrtTrain('', true);
  if (ortBefore.status !== 'ok') log(`[ort-train] failed: ${ortBefore.reason}`);
  const peak = cpuPeak();
  const torch = await benchTorch();
  if (torch.status !== 'ok') log(`[torch] ${torch.status}: ${torch.reason}`);
  const ortAfter = torch.status === 'ok' ? await benchOrtTrain(' after torch', false) : null;
  const ortTrain = bracketOrt(ortBefore, ortAfter);
  const ort = await benchOrt(torch.onnxPath);
  if (ort.status !== 'ok') log(`[ort] ${ort.status}: ${ort.reason}`);
  const peakRss = peakRssMiB();

  const f = (x: number | undefined, d = 2): string =>
    x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d);
  const k = (x: number | undefined): string =>
    x === undefined || !Number.isFinite(x) ? '—' : `${(x / 1000).toFixed(2)}k`;
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  const trainRatio = ratio(ours.trainStepsPerSec, torch.trainStepsPerSec);
  const scoreRatioTorch = ratio(ours.scoreSamplesPerSec, torch.scoreSamplesPerSec);
  const scoreRatioOrt = ratio(ours.scoreSamplesPerSec, ort.scoreSamplesPerSec);
  const torchHead = torch.header ? torch.header.split(' ').slice(0, 3).join(' ') : 'torch';
  const torchName = `${torchHead}${torch.blas ? `, ${torch.blas.kind}` : ''}${torch.status === 'partial' ? ' (partial)' : ''}`;
  const s = ours.split;
  const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round((100 * x) / s.stepMs)}%` : '—');
  const oursFlag = ours.trainLoaded || ours.scoreLoaded ? ' [LOADED machine]' : '';
  const hasTorch = torch.status === 'ok' || torch.status === 'partial';

  const lines = [
    '',
    `=== flow speed (D=${D}, H=${H}, ${NB} blocks; train batch ${BATCH}+${BATCH}, score batch ${SCORE_B}) — ${started.toISOString()} ===`,
    table([
      ['setup', 'train steps/s', 'train GFLOP/s', 'score samples/s', 'score GFLOP/s'],
      [
        `ours: tfjs ${ours.backend} (${ours.package})${oursFlag}`,
        f(ours.trainStepsPerSec, 3),
        f(ours.trainGflops, 1),
        k(ours.scoreSamplesPerSec),
        f(ours.scoreGflops, 1),
      ],
      ortTrain.status === 'ok'
        ? [
            `ours: ort training step (onnxruntime-node, ${ortTrain.threads} threads, ${ortTrain.stepsPerCall} steps per call)${ortTrain.trainLoaded ? ' [LOADED machine]' : ''}`,
            f(ortTrain.trainStepsPerSec, 3),
            f(ortTrain.trainGflops, 1),
            '—',
            '—',
          ]
        : [`ours: ort training step failed: ${ortTrain.reason}`, '—', '—', '—', '—'],
      hasTorch
        ? [
            torchName,
            f(torch.trainStepsPerSec, 3),
            f(torch.trainGflops, 1),
            k(torch.scoreSamplesPerSec),
            f(torch.scoreGflops, 1),
          ]
        : [`torch: ${torch.reason}`, '—', '—', '—', '—'],
      ort.status === 'ok'
        ? [
            `onnxruntime-node ${ort.version} (${ort.threads} threads)${ort.loaded ? ' [LOADED machine]' : ''}`,
            '—',
            '—',
            k(ort.scoreSamplesPerSec),
            f(ort.scoreGflops, 1),
          ]
        : [`ORT: ${ort.status}: ${ort.reason}`, '—', '—', '—', '—'],
    ]),
    `ratios: ort/torch train ${f(ratio(ortTrain.trainStepsPerSec, torch.trainStepsPerSec), 3)} (goal ≥ 1.2; ort windows before and after torch${ortTrain.before !== undefined ? `: ${f(ratio(ortTrain.before, torch.trainStepsPerSec), 3)} before, ${f(ratio(ortTrain.after, torch.trainStepsPerSec), 3)} after` : ''})  ·  ort/tfjs train ${f(ratio(ortTrain.trainStepsPerSec, ours.trainStepsPerSec), 2)}`,
    `CPU peak ${f(peak.gflops, 1)} GFLOP/s = ${peak.note}: ort train ${f(ratio(ortTrain.trainGflops, peak.gflops) !== undefined ? 100 * ratio(ortTrain.trainGflops, peak.gflops)! : undefined, 0)}% · torch train ${f(ratio(torch.trainGflops, peak.gflops) !== undefined ? 100 * ratio(torch.trainGflops, peak.gflops)! : undefined, 0)}% · tfjs train ${f(100 * (ratio(ours.trainGflops, peak.gflops) ?? NaN), 0)}% of peak`,
    ortTrain.split
      ? `where time goes (ort, ms per step): ${Object.entries(ortTrain.split)
          .map(([k2, v]) => `${k2} ${f(v, 1)}`)
          .join(' · ')}`
      : '',
    `ratios: tfjs/torch train ${f(trainRatio, 3)}  ·  ours/torch score ${f(scoreRatioTorch, 3)}  ·  ours/ORT score ${f(scoreRatioOrt, 3)}`,
    `where time goes (ours, median step ${f(s.stepMs, 0)} ms): forward ${f(s.forwardMs, 0)} ms (${pct(s.forwardMs)}) · backward ${f(s.backwardMs, 0)} ms (${pct(s.backwardMs)}) · Adam ${f(s.adamMs, 0)} ms (${pct(s.adamMs)}) · rest ${f(s.otherMs, 0)} ms (${pct(s.otherMs)}: trainer glue — feeding params, batch + noise, syncs, …)`,
    `kernel: 512³ matMul ours ${f(ours.matmul512Gflops, 1)} GFLOP/s vs torch sgemm ${f(torch.sgemm512Gflops, 1)} GFLOP/s${torch.blas?.slow ? '  (!) torch is on netlib reference BLAS — not the PERF_NOTES setup' : ''}`,
    `ours train: ${ours.timedSteps} timed steps after ${ours.warmupSteps} warm-up; windows of ${STEPS_PER_WINDOW} steps ${ours.trainWindows.join(' ')} steps/s, clean ${ours.trainCleanWindows} (foreign cores ${ours.trainWindowForeignCores.join(' ')}); all steps ${f(ours.trainStepsPerSecAllSteps, 3)}/s, whole call ${f(ours.trainStepsPerSecWall, 3)}/s; step ms median ${f(ours.trainStepMsMedian, 0)} [${f(ours.trainStepMsMin, 0)}–${f(ours.trainStepMsMax, 0)}]; own CPU ${f(ours.trainOwnCores)} cores`,
    `ours score: ${ours.scoreSamplesPerSecAll.join(', ')} samples/s (${SCORE_REPEATS} × flowLogProb of ${SCORE_B} rows; foreign cores ${ours.scoreForeignCores.join(' ')})`,
    memoryLine(ours, peakRss),
    hasTorch ? `torch: ${(torch.windowNotes ?? []).join(' / ') || '—'}; ${torch.seconds} s` : '',
    ort.status === 'ok'
      ? `ORT: windows ${ort.windows?.join(' ')} samples/s (foreign cores ${ort.foreignCores?.join(' ')}); model from ${torch.onnxFrom ?? ort.onnxPath}; max |logp − torch logp| on 8 reference rows ${ort.refMaxAbsDiff ?? '—'}`
      : '',
    `total ${((performance.now() - tAll) / 1000).toFixed(0)} s; JSON: ${path.relative(repoRoot, resultsFile)}`,
  ].filter(Boolean);
  process.stdout.write(lines.join('\n') + '\n');

  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  const json = {
    date: started.toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    flow: {
      dim: D,
      hidden: H,
      blocks: NB,
      trainBatch: [BATCH, BATCH],
      scoreBatch: SCORE_B,
      trainGflop: TRAIN_FLOP / 1e9,
      scoreGflop: SCORE_FLOP / 1e9,
    },
    ours,
    ortTrain,
    cpuPeak: peak,
    torch,
    ort,
    ratios: {
      ortTrainOverTorchTrain: ratio(ortTrain.trainStepsPerSec, torch.trainStepsPerSec),
      ortTrainOverTfjsTrain: ratio(ortTrain.trainStepsPerSec, ours.trainStepsPerSec),
      oursOverTorchTrain: trainRatio,
      oursOverTorchScore: scoreRatioTorch,
      oursOverOrtScore: scoreRatioOrt,
    },
    peakRssMiB: peakRss,
    totalSeconds: r((performance.now() - tAll) / 1000, 1),
  };
  fs.writeFileSync(resultsFile, JSON.stringify(json, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(
    `flow-speed bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exit(1);
});
