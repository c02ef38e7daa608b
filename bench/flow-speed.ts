/**
 * Flow speed bench, one run on one machine (PERF_NOTES): the engine's trainer with the CF
 * objective on the backend `initTfjs()` picks, against the PyTorch reference
 * (shared/bench/flow_torch.py) and ONNX Runtime scoring of the flow that script exports.
 *
 *   npm run bench            (= node bin/run-ts.mjs bench/flow-speed.ts)
 *
 * Flow: D=128, H=512, 8 blocks; training batch 256 inliers + 256 contrast; scoring batch 4096.
 * Order: ours → torch (subprocess; it keeps only idle-CPU windows, so nothing else runs then)
 * → ORT. Results also go to bench/results/flow-speed.json.
 *
 * Environment:
 *   BENCH_STEPS          timed training steps (default 30)
 *   BENCH_WARMUP         warm-up training steps, in a separate trainFlow call (default 5)
 *   BENCH_SCORE_REPEATS  timed scoring calls of 4096 rows (default 5)
 *   BENCH_SPLIT_REPEATS  repeats of the forward / forward+backward split (default 5)
 *   BENCH_SKIP_TORCH=1   skip the PyTorch reference (ORT then needs BENCH_ONNX)
 *   BENCH_ONNX           an existing flow_score.onnx to score with ORT instead of the fresh export
 *   BENCH_ORT_THREADS    ORT intra-op threads (default 2)
 *   BENCH_TORCH_TIMEOUT  seconds before the torch run is killed (default 420)
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
import { initFlowParams, paramCount, type ParamMap } from '../src/main/engine/flow/params';
import { makeFlowSpec } from '../src/main/engine/flow/spec';
import { runTfGraph } from '../src/main/engine/flow/tfjsExecutor';
import { Adam } from '../src/main/engine/train/adam';
import { cfObjective } from '../src/main/engine/train/objectives/cf';
import { DEFAULT_TRAIN, trainFlow } from '../src/main/engine/train/trainer';
import { matrix, type Matrix } from '../src/main/engine/util/matrix';
import { Rng } from '../src/main/engine/util/rng';

// ---------------------------------------------------------------- configuration

const D = 128;
const H = 512;
const NB = 8;
const HALF = D / 2;
const BATCH = 256; // inliers; contrast batch is the same size
const SCORE_B = 4096;
const DATA_ROWS = 4096;

/** Matrix-product FLOPs, the formula of flow_torch.py (forward 2·m·n·k per dense, train ×3). */
const DENSE_MACS_PER_ROW = NB * (HALF * H + H * H + H * 2 * HALF);
const TRAIN_FLOP = 3 * 2 * DENSE_MACS_PER_ROW * (2 * BATCH); // ≈ 8.86 GFLOP
const SCORE_FLOP = 2 * DENSE_MACS_PER_ROW * SCORE_B; // ≈ 23.6 GFLOP

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
const TORCH_TIMEOUT_S = envInt('BENCH_TORCH_TIMEOUT', 420);
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

/** CPU seconds used by everything on the machine (same fields as flow_torch.py's busy_sec). */
function machineBusySec(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / 100;
  } catch {
    return NaN;
  }
}
const ownSec = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** Measures how many cores other processes used while `fn` ran (like flow_torch.py). */
async function withLoad<T>(fn: () => Promise<T> | T): Promise<{ value: T; seconds: number; ownCores: number; foreignCores: number }> {
  const b0 = machineBusySec();
  const o0 = ownSec();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const own = ownSec() - o0;
  const foreign = Math.max(0, (machineBusySec() - b0 - own) / seconds);
  return { value, seconds, ownCores: r(own / seconds), foreignCores: r(foreign) };
}
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
/** Waits (up to maxS) for a 1 s window in which other processes use < 0.1 core. */
async function waitIdle(maxS = 20): Promise<number> {
  const t0 = performance.now();
  let fo = NaN;
  while (performance.now() - t0 < maxS * 1000) {
    const m = await withLoad(() => sleep(1000));
    fo = m.foreignCores;
    if (fo < 0.1) break;
  }
  return fo;
}

function randn(rows: number, cols: number, rng: Rng): Matrix {
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i++) m.data[i] = rng.normal();
  return m;
}

function memInfo(): { numTensors: number; numBytes: number; wasmHeapMiB?: number } {
  const m = tf.memory();
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  const heap = be.wasm?.HEAPU8?.byteLength;
  return { numTensors: m.numTensors, numBytes: m.numBytes, ...(heap ? { wasmHeapMiB: mib(heap) } : {}) };
}

/** Minimal .npy reader for the little float32 reference arrays flow_torch.py writes (any rank). */
function readNpyF32(file: string): Float32Array {
  const b = fs.readFileSync(file);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + hlen;
  const header = b.subarray(major === 1 ? 10 : 12, start).toString('latin1');
  if (!header.includes("'<f4'")) throw new Error(`${file}: not float32 (${header.trim()})`);
  const out = new Float32Array((b.length - start) / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(start + 4 * i);
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
  trainStepsPerSec: number;
  trainStepsPerSecWall: number;
  trainStepMsMedian: number;
  trainStepMsMin: number;
  trainStepMsMax: number;
  trainGflops: number;
  trainOwnCores: number;
  trainForeignCores: number;
  idleBeforeForeignCores: number;
  finalLoss: number | null;
  scoreRepeats: number;
  scoreSamplesPerSec: number;
  scoreSamplesPerSecAll: number[];
  scoreGflops: number;
  split: { forwardMs: number; forwardBackwardMs: number; stepMs: number; backwardMs: number; adamMs: number; otherMs: number };
  matmul512Gflops: number;
  memory: {
    start: ReturnType<typeof memInfo>;
    afterWarmup: ReturnType<typeof memInfo>;
    afterTimed: ReturnType<typeof memInfo>;
    duringTimedMin: number;
    duringTimedMax: number;
    end: ReturnType<typeof memInfo>;
    flat: boolean;
    peakRssMiBAfterOurs: number;
  };
}

async function benchOurs(): Promise<OursResult> {
  const info = await initTfjs();
  log(`[ours] backend ${info.backend} from ${info.package} (tfjs ${info.tfjsVersion}, threads ${info.threads || 'n/a'})`);
  for (const a of info.attempts) if (!a.ok) log(`       not used: ${a.name}: ${a.reason}`);

  const spec = makeFlowSpec(D, { hidden: H, blocks: NB }, 0);
  const init = initFlowParams(spec, 0);
  const rng = new Rng(12345);
  const inliers = randn(DATA_ROWS, D, rng);
  const contrast = randn(DATA_ROWS, D, rng);
  const xScore = randn(SCORE_B, D, rng);
  const memStart = memInfo();

  const train = async (steps: number, init0: ParamMap, onStep?: () => void) =>
    trainFlow({
      spec,
      objective: cfObjective,
      inliers,
      heldOut: null,
      contrast,
      eps: 0,
      config: { ...DEFAULT_TRAIN, steps },
      init: init0,
      dataInit: false,
      progressEvery: 1,
      onProgress: onStep,
    });

  log(`[ours] warm-up: ${WARMUP} steps`);
  const warm = await train(WARMUP, init);
  const memWarm = memInfo();

  const idleFo = await waitIdle(15);
  log(`[ours] timing ${STEPS} steps (other processes before start: ${idleFo} cores)`);
  const stamps: number[] = [];
  const tensorsDuring: number[] = [];
  let lastLoss: number | null = null;
  const timed = await withLoad(async () => {
    const t0 = performance.now();
    const res = await trainFlow({
      spec,
      objective: cfObjective,
      inliers,
      heldOut: null,
      contrast,
      eps: 0,
      config: { ...DEFAULT_TRAIN, steps: STEPS },
      init: warm.params,
      dataInit: false,
      progressEvery: 1,
      onProgress: (p) => {
        stamps.push(performance.now());
        tensorsDuring.push(tf.memory().numTensors);
        lastLoss = p.loss;
      },
    });
    return { res, wall: (performance.now() - t0) / 1000 };
  });
  const memTimed = memInfo();
  const { res, wall } = timed.value;
  const intervals = stamps.slice(1).map((t, i) => t - stamps[i]);
  // steps/s between the first and the last step's progress callback: excludes trainer setup
  // (variables, Adam state) and the final parameter snapshot; falls back to the trainer's own
  // figure if onProgress did not fire per step.
  const rate = intervals.length >= 1 ? intervals.length / ((stamps[stamps.length - 1] - stamps[0]) / 1000) : res.stepsPerSec;
  const stepMs = intervals.length ? median(intervals) : 1000 / rate;
  log(`[ours] train ${r(rate, 3)} steps/s (median step ${r(stepMs, 1)} ms; wall incl. setup ${r(res.steps / wall, 3)}/s)`);

  // scoring: flowLogProb on 4096 rows, one warm-up + SCORE_REPEATS
  const model = { spec, params: res.params };
  flowLogProb(model, xScore);
  const scoreRates: number[] = [];
  for (let i = 0; i < SCORE_REPEATS; i++) {
    const t0 = performance.now();
    const lp = flowLogProb(model, xScore);
    const dt = (performance.now() - t0) / 1000;
    if (!Number.isFinite(lp[0])) throw new Error('scoring returned a non-finite log p');
    scoreRates.push(SCORE_B / dt);
  }
  const scoreRate = median(scoreRates);
  log(`[ours] score ${Math.round(scoreRate)} samples/s (${scoreRates.map((x) => Math.round(x)).join(', ')})`);

  // where time goes: the objective graph forward only (no tape), then forward + gradients
  // (tf.variableGrads, as the trainer does, without Adam), against the trainer's full step.
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
    g[0].dataSync(); // gradients of the first layer are computed last in the backward pass
    tf.dispose(g);
    value.dispose();
  };
  const timeMs = (fn: () => void, n: number): number => {
    fn();
    const ts: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      fn();
      ts.push(performance.now() - t0);
    }
    return median(ts);
  };
  const fMs = timeMs(forward, SPLIT_REPEATS);
  const fbMs = timeMs(forwardBackward, SPLIT_REPEATS);
  tf.dispose([...Object.values(pt), ...Object.values(vars), xT, yT, epsT]);

  // the optimizer alone: Adam.apply on one flat variable with all parameters (the layout the
  // trainer uses at the time of writing); NaN if adam.ts changed its interface
  let adamMs = NaN;
  try {
    const n = paramCount(init);
    const theta = tf.variable(tf.zeros([n]), true, 'flowSpeedBench/theta');
    const grad = tf.randomNormal([n]);
    const adam = new Adam({ theta }, { lr: 1e-4, totalSteps: 1000, clipNorm: 10 });
    adamMs = timeMs(() => {
      adam.apply({ theta: grad }); // syncs itself (reads the gradient norm); wasm ops run eagerly
    }, SPLIT_REPEATS);
    adam.dispose();
    tf.dispose([theta, grad]);
  } catch (e) {
    log(`[ours] Adam timing failed: ${e instanceof Error ? e.message : String(e)}`);
  }

  // the kernel alone: a plain 512×512×512 product
  const a = tf.randomNormal([512, 512]);
  const b = tf.randomNormal([512, 512]);
  const mm = (): void => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
  const mmMs = timeMs(mm, 20);
  tf.dispose([a, b]);
  const memEnd = memInfo();

  const flat = memTimed.numTensors === memWarm.numTensors && Math.max(...tensorsDuring) === Math.min(...tensorsDuring);
  return {
    backend: info.backend,
    package: info.package,
    threads: info.threads,
    tfjsVersion: info.tfjsVersion,
    attempts: info.attempts,
    params: paramCount(init),
    warmupSteps: WARMUP,
    timedSteps: STEPS,
    trainStepsPerSec: r(rate, 3),
    trainStepsPerSecWall: r(res.steps / wall, 3),
    trainStepMsMedian: r(stepMs, 1),
    trainStepMsMin: r(Math.min(...intervals), 1),
    trainStepMsMax: r(Math.max(...intervals), 1),
    trainGflops: r((rate * TRAIN_FLOP) / 1e9, 1),
    trainOwnCores: timed.ownCores,
    trainForeignCores: timed.foreignCores,
    idleBeforeForeignCores: idleFo,
    finalLoss: lastLoss,
    scoreRepeats: SCORE_REPEATS,
    scoreSamplesPerSec: Math.round(scoreRate),
    scoreSamplesPerSecAll: scoreRates.map((x) => Math.round(x)),
    scoreGflops: r(((scoreRate / SCORE_B) * SCORE_FLOP) / 1e9, 1),
    split: {
      forwardMs: r(fMs, 1),
      forwardBackwardMs: r(fbMs, 1),
      stepMs: r(stepMs, 1),
      backwardMs: r(fbMs - fMs, 1),
      adamMs: r(adamMs, 1),
      otherMs: r(stepMs - fbMs - (Number.isFinite(adamMs) ? adamMs : 0), 1),
    },
    matmul512Gflops: r((2 * 512 ** 3) / (mmMs / 1000) / 1e9, 1),
    memory: {
      start: memStart,
      afterWarmup: memWarm,
      afterTimed: memTimed,
      duringTimedMin: Math.min(...tensorsDuring),
      duringTimedMax: Math.max(...tensorsDuring),
      end: memEnd,
      flat,
      peakRssMiBAfterOurs: peakRssMiB(),
    },
  };
}

// ---------------------------------------------------------------- 2. torch

interface TorchResult {
  status: 'ok' | 'skipped' | 'failed';
  reason?: string;
  header?: string;
  trainStepsPerSec?: number;
  trainWindows?: string;
  trainGflops?: number;
  scoreSamplesPerSec?: number;
  scoreGflops?: number;
  sgemm512Gflops?: number;
  windowNotes?: string[];
  onnxPath?: string;
  seconds?: number;
}

function torchAvailable(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const p = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8', timeout: 120_000 });
  if (p.status !== 0) return (p.stderr || p.error?.message || 'import torch failed').trim().split('\n').pop()!;
  return null;
}

async function benchTorch(): Promise<TorchResult> {
  if (SKIP_TORCH) return { status: 'skipped', reason: 'BENCH_SKIP_TORCH=1' };
  if (!fs.existsSync(torchScript)) return { status: 'skipped', reason: `${torchScript} not found (set CFSTUDIO_SHARED)` };
  const missing = torchAvailable();
  if (missing) return { status: 'skipped', reason: `skipped: apt-get install python3-torch (${missing})` };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-flow-bench-'));
  log(`[torch] ${PYTHON} ${torchScript} --export   (cwd ${dir}; ~1–2 min, keeps idle-CPU windows only)`);
  const t0 = performance.now();
  const out: string[] = [];
  const errTail: string[] = [];
  const code = await new Promise<number | string>((resolve) => {
    const child = spawn(PYTHON, [torchScript, '--export'], {
      cwd: dir,
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), TORCH_TIMEOUT_S * 1000);
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
  const seconds = r((performance.now() - t0) / 1000, 1);
  const text = out.join('\n');
  const num = (re: RegExp): number | undefined => {
    const m = re.exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const res: TorchResult = {
    status: 'ok',
    header: out.find((l) => l.startsWith('torch ')),
    trainStepsPerSec: num(/train steps\/s median ([\d.]+)/),
    trainWindows: /train steps\/s median [\d.]+\s+windows (\[[^\]]*\])/.exec(text)?.[1],
    trainGflops: num(/train steps\/s median[^\n]*GFLOP\/s ([\d.]+)/),
    scoreSamplesPerSec: num(/score batch\d+:[^\n]*samples\/s ([\d.]+)/),
    scoreGflops: num(/score batch\d+:[^\n]*GFLOP\/s ([\d.]+)/),
    sgemm512Gflops: num(/sgemm 512\^3 GFLOP\/s ([\d.]+)/),
    windowNotes: out.filter((l) => l.includes('clean ')).map((l) => l.trim()),
    seconds,
  };
  const onnx = path.join(dir, 'flow_score.onnx');
  if (fs.existsSync(onnx)) res.onnxPath = onnx;
  if (code !== 0 || res.trainStepsPerSec === undefined || res.scoreSamplesPerSec === undefined) {
    res.status = 'failed';
    res.reason = `exit ${code}; ${errTail.slice(-5).join(' | ') || 'expected lines missing from its output'}`;
  }
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
  scoreGflops?: number;
  refMaxAbsDiff?: number;
  foreignCores?: number[];
}

async function benchOrt(onnxPath: string | undefined): Promise<OrtResult> {
  const file = process.env.BENCH_ONNX || onnxPath;
  if (!file) return { status: 'skipped', reason: 'no flow_score.onnx (the torch export did not run; set BENCH_ONNX)' };
  const require = createRequire(import.meta.url);
  let version = '?';
  try {
    version = (require('onnxruntime-node/package.json') as { version: string }).version;
  } catch {
    // version is cosmetic
  }
  try {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(file, { intraOpNumThreads: ORT_THREADS });
    const inName = session.inputNames[0];
    const outName = session.outputNames[0];
    log(`[ort] onnxruntime-node ${version}, ${ORT_THREADS} intra-op threads, ${path.basename(file)} (${inName} → ${outName})`);

    // correctness against the reference rows the export wrote next to it
    let refMaxAbsDiff: number | undefined;
    const rx = path.join(path.dirname(file), 'ref_x.npy');
    const rl = path.join(path.dirname(file), 'ref_logp.npy');
    if (fs.existsSync(rx) && fs.existsSync(rl)) {
      const x8 = readNpyF32(rx);
      const want = readNpyF32(rl);
      const got = (await session.run({ [inName]: new ort.Tensor('float32', x8, [x8.length / D, D]) }))[outName].data as Float32Array;
      refMaxAbsDiff = 0;
      for (let i = 0; i < want.length; i++) refMaxAbsDiff = Math.max(refMaxAbsDiff, Math.abs(got[i] - want[i]));
    }

    const rng = new Rng(777);
    const x = randn(SCORE_B, D, rng);
    const feeds = { [inName]: new ort.Tensor('float32', x.data, [SCORE_B, D]) };
    const once = async (): Promise<void> => {
      const o = await session.run(feeds);
      if (!Number.isFinite((o[outName].data as Float32Array)[0])) throw new Error('non-finite output');
    };
    for (let i = 0; i < 3; i++) await once();
    const t0 = performance.now();
    await once();
    const per = Math.max(1, Math.round(1500 / (performance.now() - t0))); // ~1.5 s windows
    const windows: number[] = [];
    const foreign: number[] = [];
    for (let w = 0; w < 5; w++) {
      const m = await withLoad(async () => {
        for (let i = 0; i < per; i++) await once();
      });
      windows.push(Math.round((per * SCORE_B) / m.seconds));
      foreign.push(m.foreignCores);
    }
    await session.release();
    const rate = median(windows);
    log(`[ort] score ${rate} samples/s (windows ${windows.join(', ')}; ${per} runs/window)`);
    return {
      status: 'ok',
      version,
      threads: ORT_THREADS,
      onnxPath: file,
      runsPerWindow: per,
      scoreSamplesPerSec: rate,
      windows,
      scoreGflops: r(((rate / SCORE_B) * SCORE_FLOP) / 1e9, 1),
      refMaxAbsDiff: refMaxAbsDiff === undefined ? undefined : Number(refMaxAbsDiff.toPrecision(3)),
      foreignCores: foreign,
    };
  } catch (e) {
    return { status: 'failed', version, reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

// ---------------------------------------------------------------- report

function memoryLine(ours: OursResult, peakRss: number): string {
  const m = ours.memory;
  const perCall = m.afterTimed.numTensors - m.afterWarmup.numTensors;
  const heapGrowth =
    m.afterTimed.wasmHeapMiB !== undefined && m.afterWarmup.wasmHeapMiB !== undefined
      ? `, wasm heap ${m.afterWarmup.wasmHeapMiB} → ${m.afterTimed.wasmHeapMiB} MiB`
      : '';
  const within = m.duringTimedMin === m.duringTimedMax ? 'flat within the run' : `NOT flat within the run (${m.duringTimedMin}–${m.duringTimedMax})`;
  const across = perCall === 0 ? 'flat across trainFlow calls' : `${perCall > 0 ? '+' : ''}${perCall} tensors left per trainFlow call (LEAK)`;
  return (
    `memory: tf.memory().numTensors start ${m.start.numTensors} → after warm-up call ${m.afterWarmup.numTensors} → after timed call ${m.afterTimed.numTensors} ` +
    `(during steps ${m.duringTimedMin}–${m.duringTimedMax}) → end ${m.end.numTensors}: ${within}, ${across}${heapGrowth}; ` +
    `peak RSS ${m.peakRssMiBAfterOurs} MiB after ours, ${peakRss} MiB at end (this process; the torch subprocess not included)`
  );
}

function table(rows: string[][]): string {
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  return rows.map((row) => row.map((cell, c) => (c === 0 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  ')).join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const tAll = performance.now();
  log(`flow-speed bench: D=${D} H=${H} blocks=${NB}, batch ${BATCH}+${BATCH}, score batch ${SCORE_B}; ${os.cpus().length} CPUs, node ${process.version}`);
  log(`train step ≈ ${(TRAIN_FLOP / 1e9).toFixed(2)} GFLOP, scoring ${SCORE_B} rows ≈ ${(SCORE_FLOP / 1e9).toFixed(1)} GFLOP (dense products, flow_torch.py formula)`);

  const ours = await benchOurs();
  const torch = await benchTorch();
  if (torch.status !== 'ok') log(`[torch] ${torch.status}: ${torch.reason}`);
  const ort = await benchOrt(torch.onnxPath);
  if (ort.status !== 'ok') log(`[ort] ${ort.status}: ${ort.reason}`);
  const peakRss = peakRssMiB();

  const f = (x: number | undefined, d = 2): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(d));
  const k = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? '—' : `${(x / 1000).toFixed(2)}k`);
  const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
  const trainRatio = ratio(ours.trainStepsPerSec, torch.trainStepsPerSec);
  const scoreRatioTorch = ratio(ours.scoreSamplesPerSec, torch.scoreSamplesPerSec);
  const scoreRatioOrt = ratio(ours.scoreSamplesPerSec, ort.scoreSamplesPerSec);
  const torchName = torch.header ? torch.header.split(' ').slice(0, 3).join(' ') : 'torch';
  const s = ours.split;
  const pct = (x: number): string => `${Math.round((100 * x) / s.stepMs)}%`;

  const lines = [
    '',
    `=== flow speed (D=${D}, H=${H}, ${NB} blocks; train batch ${BATCH}+${BATCH}, score batch ${SCORE_B}) — ${started.toISOString()} ===`,
    table([
      ['setup', 'train steps/s', 'train GFLOP/s', 'score samples/s', 'score GFLOP/s'],
      [
        `ours: tfjs ${ours.backend} (${ours.package})`,
        f(ours.trainStepsPerSec, 3),
        f(ours.trainGflops, 1),
        k(ours.scoreSamplesPerSec),
        f(ours.scoreGflops, 1),
      ],
      torch.status === 'ok'
        ? [`${torchName} (flow_torch.py)`, f(torch.trainStepsPerSec, 3), f(torch.trainGflops, 1), k(torch.scoreSamplesPerSec), f(torch.scoreGflops, 1)]
        : [`torch: ${torch.reason}`, '—', '—', '—', '—'],
      ort.status === 'ok'
        ? [`onnxruntime-node ${ort.version} (${ort.threads} threads)`, '—', '—', k(ort.scoreSamplesPerSec), f(ort.scoreGflops, 1)]
        : [`ORT: ${ort.status}: ${ort.reason}`, '—', '—', '—', '—'],
    ]),
    `ratios: ours/torch train ${f(trainRatio, 3)}  ·  ours/torch score ${f(scoreRatioTorch, 3)}  ·  ours/ORT score ${f(scoreRatioOrt, 3)}`,
    `where time goes (ours, one step ${f(s.stepMs, 0)} ms): forward ${f(s.forwardMs, 0)} ms (${pct(s.forwardMs)}) · backward ${f(s.backwardMs, 0)} ms (${pct(s.backwardMs)}) · Adam ${f(s.adamMs, 0)} ms (${pct(s.adamMs)}) · rest ${f(s.otherMs, 0)} ms (${pct(s.otherMs)}: trainer glue — feeding/reshaping params and grads, batch + noise, syncs)`,
    `kernel: 512³ matMul ours ${f(ours.matmul512Gflops, 1)} GFLOP/s vs torch sgemm ${f(torch.sgemm512Gflops, 1)} GFLOP/s`,
    `ours train: ${ours.timedSteps} timed steps after ${ours.warmupSteps} warm-up, step ms median ${f(ours.trainStepMsMedian, 0)} [${f(ours.trainStepMsMin, 0)}–${f(ours.trainStepMsMax, 0)}], own CPU ${f(ours.trainOwnCores)} cores, other processes ${f(ours.trainForeignCores)} cores; wall incl. trainer setup ${f(ours.trainStepsPerSecWall, 3)} steps/s`,
    `ours score: ${ours.scoreSamplesPerSecAll.join(', ')} samples/s (${ours.scoreRepeats} × flowLogProb of ${SCORE_B} rows)`,
    memoryLine(ours, peakRss),
    ort.status === 'ok' && ort.refMaxAbsDiff !== undefined ? `ORT check: max |logp − torch logp| on 8 reference rows = ${ort.refMaxAbsDiff}` : '',
    torch.status === 'ok' ? `torch windows: ${(torch.windowNotes ?? []).join(' / ')}` : '',
    `total ${((performance.now() - tAll) / 1000).toFixed(0)} s; JSON: ${path.relative(repoRoot, resultsFile)}`,
  ].filter(Boolean);
  process.stdout.write(lines.join('\n') + '\n');

  fs.mkdirSync(path.dirname(resultsFile), { recursive: true });
  const json = {
    date: started.toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    flow: { dim: D, hidden: H, blocks: NB, trainBatch: [BATCH, BATCH], scoreBatch: SCORE_B, trainGflop: TRAIN_FLOP / 1e9, scoreGflop: SCORE_FLOP / 1e9 },
    ours,
    torch,
    ort,
    ratios: { oursOverTorchTrain: trainRatio, oursOverTorchScore: scoreRatioTorch, oursOverOrtScore: scoreRatioOrt },
    peakRssMiB: peakRss,
    totalSeconds: r((performance.now() - tAll) / 1000, 1),
  };
  fs.writeFileSync(resultsFile, JSON.stringify(json, null, 2) + '\n');
}

main().catch((e) => {
  process.stderr.write(`flow-speed bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
