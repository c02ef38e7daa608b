import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import {
  buildInverseGraph,
  buildLogProbGraph,
  flowParamShapes,
  LOG_2PI,
} from '../../src/main/engine/flow/flowGraph';
import { flowInverse, flowLogProb, flowSample, paramTensors } from '../../src/main/engine/flow/flowModel';
import { validateGraph } from '../../src/main/engine/flow/graph';
import { initFlowParams, type ParamMap } from '../../src/main/engine/flow/params';
import { refTensor, runRefGraph, type RefTensor } from '../../src/main/engine/flow/refExecutor';
import { makeFlowSpec, type FlowSpec } from '../../src/main/engine/flow/spec';
import { runTfGraph } from '../../src/main/engine/flow/tfjsExecutor';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { nllObjective } from '../../src/main/engine/train/objectives/nll';
import { DEFAULT_TRAIN, dataInitAffine, trainFlow } from '../../src/main/engine/train/trainer';
import { CancelledError, UserError } from '../../src/main/engine/util/errors';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';

beforeAll(async () => {
  await initTfjs();
});

/** A flow far from the identity: random last layers and global affine. */
function randomFlow(
  dim: number,
  seed: number,
  blocks = 3,
  hidden = 16,
): { spec: FlowSpec; params: ParamMap } {
  const spec = makeFlowSpec(dim, { blocks, hidden, lastLayerInit: 'scaled' }, seed);
  const params = initFlowParams(spec, seed);
  const rng = new Rng(seed + 99);
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith('w3')) for (let i = 0; i < v.length; i++) v[i] = rng.normal() * 0.3;
    if (k.endsWith('b3') || k.endsWith('beta') || k.endsWith('gamma'))
      for (let i = 0; i < v.length; i++) v[i] = rng.normal() * 0.5;
  }
  return { spec, params };
}

function randomMatrix(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale;
  return { rows, cols, data };
}

function refFeeds(spec: FlowSpec, params: ParamMap): Record<string, RefTensor> {
  const out: Record<string, RefTensor> = {};
  for (const { name, shape } of flowParamShapes(spec)) out[name] = refTensor(shape, params[name]);
  return out;
}

/** The float64 reference executor's forward pass (all intermediate tensors, incl. logp and z). */
function refForward(spec: FlowSpec, params: ParamMap, x: Matrix): Record<string, RefTensor> {
  return runRefGraph(buildLogProbGraph(spec), {
    ...refFeeds(spec, params),
    x: refTensor([x.rows, x.cols], x.data),
  });
}

/** log|det A| of a small dense matrix by Gaussian elimination with partial pivoting. */
function logAbsDet(a: number[][]): number {
  const n = a.length;
  const m = a.map((r) => r.slice());
  let s = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    s += Math.log(Math.abs(m[c][c]));
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return s;
}

describe('flow graph', () => {
  it('builds valid forward and inverse graphs with every parameter declared once', () => {
    const spec = makeFlowSpec(7, { blocks: 8, hidden: 32 }, 1);
    const fwd = buildLogProbGraph(spec);
    const inv = buildInverseGraph(spec);
    validateGraph(fwd);
    validateGraph(inv);
    expect(fwd.params.map((p) => p.name)).toEqual(flowParamShapes(spec).map((p) => p.name));
    expect(fwd.params).toHaveLength(8 * 8);
    expect(fwd.outputs).toEqual(['logp']);
  });

  it('starts as the identity map with a zero-initialized last layer and unit affine', () => {
    const spec = makeFlowSpec(4, { blocks: 2, hidden: 8 }, 0);
    const x = randomMatrix(5, 4, 3);
    const lp = flowLogProb({ spec, params: initFlowParams(spec, 0) }, x);
    for (let r = 0; r < 5; r++) {
      let sq = 0;
      for (let j = 0; j < 4; j++) sq += x.data[r * 4 + j] ** 2;
      expect(lp[r]).toBeCloseTo(-0.5 * sq - 2 * LOG_2PI, 4);
    }
  });

  it('tfjs executor matches the float64 reference executor', () => {
    const { spec, params } = randomFlow(6, 5);
    const x = randomMatrix(20, 6, 8);
    const ref = refForward(spec, params, x).logp;
    const ours = flowLogProb({ spec, params }, x);
    for (let i = 0; i < 20; i++)
      expect(Math.abs(ours[i] - ref.data[i])).toBeLessThan(1e-4 * Math.max(1, Math.abs(ref.data[i])));
  });

  it('is exactly invertible: f⁻¹(f(x)) = x (float64 < 1e-10, tfjs float32 < 1e-4)', () => {
    const { spec, params } = randomFlow(5, 11);
    const x = randomMatrix(50, 5, 12);
    const z = refForward(spec, params, x).z;
    const back = runRefGraph(buildInverseGraph(spec), { ...refFeeds(spec, params), z }).x;
    let maxRef = 0;
    for (let i = 0; i < back.data.length; i++) maxRef = Math.max(maxRef, Math.abs(back.data[i] - x.data[i]));
    expect(maxRef).toBeLessThan(1e-10);
    const back32 = flowInverse({ spec, params }, { rows: 50, cols: 5, data: Float32Array.from(z.data) });
    let max32 = 0;
    for (let i = 0; i < back32.data.length; i++)
      max32 = Math.max(max32, Math.abs(back32.data[i] - x.data[i]));
    expect(max32).toBeLessThan(1e-4);
  });

  it('log-determinant equals log|det J| of a numerical Jacobian (odd D = 5)', () => {
    const { spec, params } = randomFlow(5, 21);
    const graph = buildLogProbGraph(spec);
    const feeds = refFeeds(spec, params);
    const zOf = (x: number[]): { z: Float64Array; logp: number } => {
      const env = runRefGraph(graph, { ...feeds, x: refTensor([1, 5], x) });
      return { z: env.z.data, logp: env.logp.data[0] };
    };
    const rng = new Rng(4);
    for (let trial = 0; trial < 4; trial++) {
      const x = Array.from({ length: 5 }, () => rng.normal() * 1.5);
      const { z, logp } = zOf(x);
      const h = 1e-5;
      const J: number[][] = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
      for (let j = 0; j < 5; j++) {
        const xp = x.slice();
        const xm = x.slice();
        xp[j] += h;
        xm[j] -= h;
        const zp = zOf(xp).z;
        const zm = zOf(xm).z;
        for (let i = 0; i < 5; i++) J[i][j] = (zp[i] - zm[i]) / (2 * h);
      }
      const sq = z.reduce((a, v) => a + v * v, 0);
      const graphLogdet = logp + 0.5 * sq + 2.5 * LOG_2PI;
      expect(Math.abs(graphLogdet)).toBeGreaterThan(0.1); // the test flow is far from volume-preserving
      expect(Math.abs(graphLogdet - logAbsDet(J))).toBeLessThan(1e-6);
    }
  });
});

describe('objectives', () => {
  it('CF gives zero gradient through contrast points below ε (the clamp)', () => {
    const { spec, params } = randomFlow(4, 31, 2, 8);
    const x = randomMatrix(16, 4, 1);
    const y = randomMatrix(16, 4, 2, 30); // far away: log p(y) ≪ ε
    const cf = cfObjective(spec, 16, 16).graph;
    const nll = nllObjective(spec, 16).graph;
    const names = flowParamShapes(spec).map((p) => p.name);
    const gradsOf = (graph: typeof cf, withY: boolean, eps: number): Float32Array[] =>
      tf.tidy(() => {
        const pt = paramTensors(spec, params);
        const f = (...ps: tf.Tensor[]) => {
          const feeds: Record<string, tf.Tensor> = { x: tf.tensor2d(x.data, [16, 4]) };
          names.forEach((n, i) => (feeds[n] = ps[i]));
          if (withY) {
            feeds.y = tf.tensor2d(y.data, [16, 4]);
            feeds.eps = tf.scalar(eps);
          }
          return runTfGraph(graph, feeds).loss as tf.Scalar;
        };
        return tf
          .grads(f)(names.map((n) => pt[n]))
          .map((g) => g.dataSync() as Float32Array);
      });
    const gCf = gradsOf(cf, true, 0);
    const gNll = gradsOf(nll, false, 0);
    for (let i = 0; i < gCf.length; i++)
      for (let j = 0; j < gCf[i].length; j++) expect(gCf[i][j]).toBeCloseTo(gNll[i][j], 5);
    // with ε far below, the contrast term is active and the gradients differ
    const gActive = gradsOf(cf, true, -1e6);
    const diff = gActive.reduce((a, g, i) => a + g.reduce((b, v, j) => b + Math.abs(v - gNll[i][j]), 0), 0);
    expect(diff).toBeGreaterThan(1e-3);
  });
});

describe('trainer', () => {
  const spec = makeFlowSpec(3, { blocks: 2, hidden: 16 }, 0);
  const data = randomMatrix(300, 3, 5, 2);
  const base = {
    spec,
    objective: nllObjective,
    inliers: data,
    heldOut: null,
    contrast: null,
    init: initFlowParams(spec, 0),
    dataInit: true,
  };

  it('data-dependent init standardizes each block output on the init batch', () => {
    const params = initFlowParams(spec, 0);
    dataInitAffine(spec, params, data);
    const env = tf.tidy(() => {
      const out = runTfGraph(buildLogProbGraph(spec), {
        ...paramTensors(spec, params),
        x: tf.tensor2d(data.data, [300, 3]),
      });
      const pre = out['b0.pre_affine'];
      const g = tf.softplus(out['b0.gamma']);
      const ya = tf.add(tf.mul(pre, g), out['b0.beta']);
      return {
        mean: tf.mean(ya, 0).dataSync(),
        sd: tf.sqrt(tf.mean(tf.square(tf.sub(ya, tf.mean(ya, 0))), 0)).dataSync(),
      };
    });
    for (let j = 0; j < 3; j++) {
      expect(Math.abs(env.mean[j])).toBeLessThan(1e-3);
      expect(env.sd[j]).toBeCloseTo(1, 3);
    }
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const cfg = { ...DEFAULT_TRAIN, steps: 15, batchSize: 64 };
    const a = await trainFlow({ ...base, config: cfg });
    const b = await trainFlow({ ...base, config: cfg });
    const c = await trainFlow({ ...base, config: { ...cfg, seed: 1 } });
    expect(a.history.map((h) => h.loss)).toEqual(b.history.map((h) => h.loss));
    expect(a.params['b1.w2']).toEqual(b.params['b1.w2']);
    expect(c.history.map((h) => h.loss)).not.toEqual(a.history.map((h) => h.loss));
  });

  it('flat and per-parameter variable layouts train identically and leave no tensors behind', async () => {
    // the layouts are the tfjs backend's (the ort backend holds one flat θ in ONNX Runtime)
    const cfg = { ...DEFAULT_TRAIN, steps: 12, batchSize: 64 };
    await trainFlow({ ...base, config: cfg, trainBackend: 'tfjs' }); // warm caches (permutation matrices)
    const before = tf.memory().numTensors;
    const flat = await trainFlow({ ...base, config: cfg, paramLayout: 'flat', trainBackend: 'tfjs' });
    const split = await trainFlow({ ...base, config: cfg, paramLayout: 'split', trainBackend: 'tfjs' });
    expect(flat.backend).toMatch(/^tfjs-/);
    expect(tf.memory().numTensors).toBe(before);
    expect(split.history.map((h) => h.loss)).toEqual(flat.history.map((h) => h.loss));
    expect(split.params['b0.w1']).toEqual(flat.params['b0.w1']);
  });

  it('learns a curved density (beyond the Gaussian of data init) and reports progress with rate and ETA', async () => {
    // banana: x2 = x0²/4 + noise — one coupling block (x2 given x0, x1) can straighten it
    const bimodal = (m: Matrix): Matrix => {
      const d = m.data.slice();
      for (let r = 0; r < m.rows; r++) d[r * 3 + 2] = (d[r * 3] * d[r * 3]) / 4 + d[r * 3 + 2] * 0.15;
      return { ...m, data: d };
    };
    const seen: number[] = [];
    const r = await trainFlow({
      ...base,
      inliers: bimodal(data),
      heldOut: bimodal(randomMatrix(100, 3, 77, 2)),
      config: { ...DEFAULT_TRAIN, steps: 300, batchSize: 64, evalEvery: 50 },
      onProgress: (p) => {
        seen.push(p.step);
        expect(p.stepsPerSec).toBeGreaterThan(0);
        expect(p.etaSeconds).toBeGreaterThanOrEqual(0);
      },
    });
    expect(seen.at(-1)).toBe(300);
    const held = r.history.filter((h) => h.heldOutNll !== null).map((h) => h.heldOutNll!);
    // Gaussian fit of x2 (sd ≈ 1.4) vs the true conditional (sd 0.3): the NLL must drop by > 0.5
    expect(held[0]).toBeGreaterThan(held.at(-1)! + 0.5);
  });

  it('samples (z ~ N(0, I) through the inverse) follow the trained density', async () => {
    const mu = [3, -2, 5];
    const sd = [0.5, 2, 1];
    const g = randomMatrix(2000, 3, 41);
    for (let i = 0; i < g.data.length; i++) g.data[i] = mu[i % 3] + sd[i % 3] * g.data[i];
    const r = await trainFlow({
      ...base,
      inliers: g,
      config: { ...DEFAULT_TRAIN, steps: 50, batchSize: 256 },
    });
    const s = flowSample({ spec, params: r.params }, 4000, 9);
    for (let j = 0; j < 3; j++) {
      let m = 0;
      let m2 = 0;
      for (let i = 0; i < s.rows; i++) {
        m += s.data[i * 3 + j] / s.rows;
        m2 += s.data[i * 3 + j] ** 2 / s.rows;
      }
      expect(Math.abs(m - mu[j])).toBeLessThan(0.1 * sd[j] + 0.05);
      expect(Math.sqrt(m2 - m * m) / sd[j]).toBeGreaterThan(0.9);
      expect(Math.sqrt(m2 - m * m) / sd[j]).toBeLessThan(1.1);
    }
  });

  it('stops with a clear error when the loss becomes NaN/Inf', async () => {
    const bad = randomMatrix(300, 3, 5, 2);
    bad.data[7] = 3e38; // overflows to Inf inside the flow
    const err = await trainFlow({
      ...base,
      inliers: bad,
      dataInit: false,
      config: { ...DEFAULT_TRAIN, steps: 50, batchSize: 300 },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(/diverged at step 1/);
  });

  it('can be cancelled through an AbortSignal', async () => {
    const ac = new AbortController();
    const run = trainFlow({
      ...base,
      config: { ...DEFAULT_TRAIN, steps: 100_000, batchSize: 64 },
      signal: ac.signal,
      progressEvery: 5,
      onProgress: (p) => p.step >= 20 && ac.abort(),
    });
    await expect(run).rejects.toThrow(CancelledError);
  });
});
