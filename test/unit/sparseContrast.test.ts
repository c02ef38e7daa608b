/**
 * The exact sparse contrast backward of CF (objectives/cfSparse.ts, issue 15 item 1): only the
 * inliers and the contrast rows above ε are back-propagated, and the update is the dense CF's.
 *   1. float64 reference executor: loss and ∂loss/∂θ of the sparse graph equal the dense
 *      graph's with 0 %, a part and 100 % of the contrast above ε;
 *   2. ONNX Runtime: 100 steps both ways from one seed (the shared MoCo CIFAR features when a
 *      CIFAR workspace is on this machine, else realistic synthetic features), parameters and
 *      losses agree to float32 tolerance, and steps with ε = −1e9 (all above) and +1e9 (none).
 */
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { appendGradients } from '../../src/main/engine/flow/autodiff/gradients';
import { flowParamShapes } from '../../src/main/engine/flow/flowGraph';
import { emitIrGraph, OnnxEmitter, OP_EMITTERS } from '../../src/main/engine/flow/onnxGraph';
import { initFlowParams, type ParamMap } from '../../src/main/engine/flow/params';
import { refTensor, runRefGraph, type RefTensor } from '../../src/main/engine/flow/refExecutor';
import { makeFlowSpec, type FlowSpec } from '../../src/main/engine/flow/spec';
import { runTfGraph } from '../../src/main/engine/flow/tfjsExecutor';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { cfSparseObjective } from '../../src/main/engine/train/objectives/cfSparse';
import type { ObjectiveBuilder } from '../../src/main/engine/train/objectives/types';
import { OrtStepRunner } from '../../src/main/engine/train/ort/ortStepRunner';
import { buildTrainLoopModel } from '../../src/main/engine/train/ort/trainLoopGraph';
import { buildTrainStepModel } from '../../src/main/engine/train/ort/trainStepGraph';
import { DEFAULT_TRAIN, trainFlow, useSparseContrast } from '../../src/main/engine/train/trainer';
import type { StepResult } from '../../src/main/engine/train/stepRunner';
import { Rng } from '../../src/main/engine/util/rng';
import { relError } from '../helpers/relError';
import { loadMocoCifar } from '../helpers/mocoFeatures';

function gaussian(rows: number, cols: number, seed: number, scale = 1, shift = 0): Float64Array {
  const rng = new Rng(seed);
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale + shift + (i % cols) * 0.2;
  return data;
}

/** loss, contrast log-densities and ∂loss/∂θ of an objective in float64 */
function refRun(
  build: ObjectiveBuilder,
  spec: FlowSpec,
  params: ParamMap,
  x: Float64Array,
  y: Float64Array,
  b: number,
  eps: number,
) {
  const obj = build(spec, b, b);
  const names = flowParamShapes(spec).map((p) => p.name);
  const gg = appendGradients(obj.graph, 'loss', names, {});
  const feeds: Record<string, RefTensor> = {
    x: refTensor([b, spec.dim], x),
    y: refTensor([b, spec.dim], y),
    eps: refTensor([], [eps]),
  };
  for (const n of names)
    feeds[n] = refTensor(flowParamShapes(spec).find((p) => p.name === n)!.shape, params[n]);
  const env = runRefGraph(gg.graph, feeds);
  return {
    loss: env.loss.data[0],
    contrastNll: env.contrastNll.data[0],
    lpy: Array.from(env.contrastLogp.data),
    grads: names.map((n) => env[gg.grads[n]].data),
    names,
    graph: gg.graph,
  };
}

describe('sparse CF backward, float64 reference executor', () => {
  const D = 6;
  const B = 12;
  const spec = makeFlowSpec(D, { blocks: 3, hidden: 10, lastLayerInit: 'scaled' }, 4);
  const params = initFlowParams(spec, 9);
  const x = gaussian(B, D, 1);
  const y = gaussian(B, D, 2, 2.5, 0.5);
  // the contrast log-densities decide ε: midway between two sorted values (no ties)
  const lpy = refRun(cfObjective, spec, params, x, y, B, 0).lpy.sort((a, b) => a - b);
  const cases: [string, number, number][] = [
    ['0 % above ε', lpy[B - 1] + 1, 0],
    ['a quarter above ε', (lpy[B - 4] + lpy[B - 3]) / 2, 3],
    ['one row above ε', (lpy[B - 2] + lpy[B - 1]) / 2, 1],
    ['100 % above ε', lpy[0] - 1, B],
  ];
  for (const [name, eps, above] of cases) {
    it(`loss and gradient equal the dense CF's: ${name}`, () => {
      const dense = refRun(cfObjective, spec, params, x, y, B, eps);
      const sparse = refRun(cfSparseObjective, spec, params, x, y, B, eps);
      expect(sparse.lpy.filter((v) => v >= eps).length).toBe(above);
      expect(Math.abs(sparse.loss - dense.loss)).toBeLessThan(1e-12 * Math.max(1, Math.abs(dense.loss)));
      expect(Math.abs(sparse.contrastNll - dense.contrastNll)).toBeLessThan(
        1e-12 * Math.abs(dense.contrastNll),
      );
      let worst = 0;
      dense.grads.forEach((g, i) => (worst = Math.max(worst, relError(sparse.grads[i], g))));
      expect(worst, 'max relative difference of ∂loss/∂θ over the parameters').toBeLessThan(1e-12);
      // gradients flow only through the inliers and the kept rows: no backward node reads the
      // forward-only pass of the whole contrast batch except the mask
      const backReads = sparse.graph.nodes
        .filter((n) => n.output.startsWith('grad/'))
        .flatMap((n) => n.inputs)
        .filter((i) => i.startsWith('y/'));
      expect(backReads).toEqual([]);
    });
  }
});

describe('sparse CF loss and the NaN guard', () => {
  it('a NaN contrast row makes the loss non-finite, as in the dense CF (so the step is not adopted)', async () => {
    const D = 4;
    const B = 8;
    const spec = makeFlowSpec(D, { blocks: 2, hidden: 6, lastLayerInit: 'scaled' }, 2);
    const params = initFlowParams(spec, 1);
    const x = gaussian(B, D, 3);
    const y = gaussian(B, D, 4, 2);
    y.fill(NaN, 2 * D, 3 * D);
    for (const eps of [-1e9, 0, 1e9]) {
      expect(Number.isFinite(refRun(cfObjective, spec, params, x, y, B, eps).loss)).toBe(false);
      expect(Number.isFinite(refRun(cfSparseObjective, spec, params, x, y, B, eps).loss)).toBe(false);
    }
    const clean = gaussian(B, D, 4, 2);
    expect(refRun(cfSparseObjective, spec, params, x, clean, B, 0).loss).toBeCloseTo(
      refRun(cfObjective, spec, params, x, clean, B, 0).loss,
      10,
    );
    // ONNX Runtime: the call with the NaN row is not adopted
    const runner = await OrtStepRunner.create({
      spec,
      objective: cfSparseObjective(spec, B, B),
      bx: B,
      by: B,
      params,
      adam: { lr: 1e-3, totalSteps: 10, clipNorm: 10 },
      eps: 0,
    });
    try {
      const r = await runner.steps(1, Float32Array.from(x), Float32Array.from(y));
      expect(Number.isFinite(r[0].loss)).toBe(false);
      for (const p of flowParamShapes(spec))
        expect(Array.from(runner.snapshot()[p.name])).toEqual(Array.from(params[p.name]));
    } finally {
      await runner.dispose();
    }
  });
});

describe('sparse CF backward, TensorFlow.js autodiff', () => {
  beforeAll(async () => {
    await initTfjs();
  });
  const D = 6;
  const B = 12;
  const spec = makeFlowSpec(D, { blocks: 2, hidden: 10, lastLayerInit: 'scaled' }, 4);
  const params = initFlowParams(spec, 9);
  const x = Float32Array.from(gaussian(B, D, 1));
  const y = Float32Array.from(gaussian(B, D, 2, 2.5, 0.5));
  const names = flowParamShapes(spec).map((p) => p.name);
  const tfGrads = (build: ObjectiveBuilder, eps: number): { lpy: number[]; grads: Float64Array[] } => {
    let out: { lpy: number[]; grads: Float64Array[] } = { lpy: [], grads: [] };
    tf.tidy(() => {
      const graph = build(spec, B, B).graph;
      const base: Record<string, tf.Tensor> = {
        x: tf.tensor2d(x, [B, D]),
        y: tf.tensor2d(y, [B, D]),
        eps: tf.scalar(eps),
      };
      for (const p of flowParamShapes(spec)) base[p.name] = tf.tensor(params[p.name], p.shape);
      const f = (...ps: tf.Tensor[]) => {
        const env = { ...base };
        names.forEach((n, i) => (env[n] = ps[i]));
        return runTfGraph(graph, env).loss;
      };
      const lpy = Array.from(runTfGraph(graph, base).contrastLogp.dataSync());
      out = {
        lpy,
        grads: tf
          .grads(f)(names.map((n) => base[n]))
          .map((t) => Float64Array.from(t.dataSync())),
      };
    });
    return out;
  };
  // not with 0 % above ε: the wasm backend's reductions over a batch of no rows return
  // uninitialized memory, so the trainer keeps the dense step on tfjs (useSparseContrast)
  it('tf.grads of the sparse graph equal the dense ones with a part and 100 % above ε', () => {
    const lpy = tfGrads(cfObjective, 0).lpy.sort((a, b) => a - b);
    for (const eps of [(lpy[B - 4] + lpy[B - 3]) / 2, (lpy[B - 2] + lpy[B - 1]) / 2, lpy[0] - 1]) {
      const dense = tfGrads(cfObjective, eps).grads;
      const sparse = tfGrads(cfSparseObjective, eps).grads;
      dense.forEach((g, i) => expect(relError(sparse[i], g), names[i]).toBeLessThan(1e-4));
    }
  });
});

describe('choosing the contrast backward', () => {
  it('trainFlow on ort: sparse (the default) and dense give the same run', async () => {
    const spec = makeFlowSpec(6, { blocks: 2, hidden: 16, lastLayerInit: 'scaled' }, 4);
    const rng = new Rng(8);
    const m = (rows: number, scale: number) => ({
      rows,
      cols: 6,
      data: Float32Array.from({ length: rows * 6 }, (_, i) => scale * rng.normal() + (i % 6) * 0.3),
    });
    const inliers = m(300, 1);
    const contrast = m(300, 2);
    const run = (contrastBackward?: 'dense' | 'sparse') =>
      trainFlow({
        spec,
        objective: cfObjective,
        inliers,
        heldOut: null,
        contrast,
        eps: -12,
        config: { ...DEFAULT_TRAIN, steps: 30, batchSize: 32, seed: 3 },
        init: initFlowParams(spec, 5),
        dataInit: false,
        trainBackend: 'ort',
        contrastBackward,
      });
    const dense = await run('dense');
    const sparse = await run();
    expect(sparse.backend).toBe('ort-cpu');
    expect(sparse.contrastAboveEps).toBeGreaterThan(0);
    expect(sparse.contrastAboveEps).toBeLessThan(1);
    expect(sparse.contrastAboveEps).toBeCloseTo(dense.contrastAboveEps, 6);
    sparse.history.forEach((p, i) => expect(p.loss).toBeCloseTo(dense.history[i].loss, 4));
    for (const p of flowParamShapes(spec))
      expect(relError(sparse.params[p.name], dense.params[p.name])).toBeLessThan(1e-4);
  }, 120_000);

  it('auto and sparse: sparse on ort; tfjs keeps the dense step; dense: dense', () => {
    expect(useSparseContrast('auto', 'ort')).toBe(true);
    expect(useSparseContrast('sparse', 'ort')).toBe(true);
    expect(useSparseContrast('dense', 'ort')).toBe(false);
    for (const c of ['auto', 'sparse', 'dense'] as const) expect(useSparseContrast(c, 'tfjs')).toBe(false);
    const spec = makeFlowSpec(4, { blocks: 1, hidden: 4 }, 1);
    expect(cfObjective(spec, 4, 4).sparseContrast!().graph.nodes.some((n) => n.op === 'CompressRows')).toBe(
      true,
    );
  });
});

type OpList = { ops: Record<string, [number, number | null][]> };
const fixtures = path.resolve(__dirname, '../fixtures/provider-ops');

/** Op types of a graph and of its subgraphs (Loop bodies), default domain only. */
function opsOf(g: onnxProto.onnx.IGraphProto, into = new Set<string>()): Set<string> {
  for (const n of g.node ?? []) {
    if (!n.domain) into.add(n.opType!);
    for (const a of n.attribute ?? []) if (a.g) opsOf(a.g, into);
  }
  return into;
}

describe('sparse CF graph in ONNX', () => {
  it('uses only ops the CUDA and DirectML providers list (as devices.test.ts checks the others)', () => {
    const spec = makeFlowSpec(6, { blocks: 2, hidden: 12 }, 2);
    const o = {
      spec,
      objective: cfSparseObjective(spec, 8, 8),
      bx: 8,
      by: 8,
      adam: { lr: 1e-3, totalSteps: 10, clipNorm: 10 },
    };
    const ops = new Set<string>();
    for (const bytes of [buildTrainStepModel(o).bytes, buildTrainLoopModel(o).bytes]) {
      const m = onnxProto.onnx.ModelProto.decode(bytes);
      expect(Number(m.opsetImport!.find((x) => !x.domain)!.version)).toBe(17);
      opsOf(m.graph!, ops);
    }
    for (const provider of ['cuda', 'dml'] as const) {
      const list = JSON.parse(fs.readFileSync(path.join(fixtures, `${provider}.json`), 'utf8')) as OpList;
      const missing = [...ops].filter(
        (op) =>
          op !== 'Constant' &&
          !(list.ops[op] ?? []).some(([from, to]) => 17 >= from && (to === null || 17 <= to)),
      );
      // DirectML has no Loop kernel (ONNX Runtime runs the Loop itself; see devices.test.ts)
      expect(missing, provider).toEqual(provider === 'dml' ? ['Loop'] : []);
    }
  });

  it('emits every op, and ColSum over a run-time row count as a ReduceSum', () => {
    for (const op of ['CompressRows', 'FillLike'] as const) expect(OP_EMITTERS[op]).toBeTypeOf('function');
    const spec = makeFlowSpec(4, { blocks: 1, hidden: 4 }, 1);
    const obj = cfSparseObjective(spec, 4, 4);
    const names = flowParamShapes(spec).map((p) => p.name);
    const gg = appendGradients(obj.graph, 'loss', names, {});
    const e = new OnnxEmitter('f/', 17);
    const bind: Record<string, string> = { x: 'x', y: 'y', eps: 'eps' };
    for (const n of names) bind[n] = n;
    emitIrGraph(e, gg.graph, { bind });
    const ops = new Set(e.nodes.map((n) => n.opType));
    expect(ops).toContain('NonZero');
    expect(ops).not.toContain('Compress');
    // the bias gradients of the kept rows' pass sum a dynamic number of rows: ReduceSum
    const colSums = gg.graph.nodes.filter((n) => n.op === 'ColSum' && !n.attrs?.size);
    expect(colSums.length).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// ONNX Runtime: 100 steps sparse vs dense

interface Data {
  source: string;
  dim: number;
  inliers: Float32Array;
  contrast: Float32Array;
}

function syntheticData(): Data {
  const dim = 16;
  const rng = new Rng(17);
  const l2 = (rows: number, spread: number, centre: number) => {
    const out = new Float32Array(rows * dim);
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < dim; j++) {
        const v = (j < 4 ? centre : 0) + spread * rng.normal();
        out[r * dim + j] = v;
        s += v * v;
      }
      for (let j = 0; j < dim; j++) out[r * dim + j] /= Math.sqrt(s);
    }
    return out;
  };
  return {
    source: 'synthetic L2-normalized features',
    dim,
    inliers: l2(1000, 0.3, 1),
    contrast: l2(4000, 0.6, 0.3),
  };
}

/** batches of rows drawn with one seeded generator (the same for both runs) */
function batches(m: Float32Array, dim: number, rows: number, count: number, seed: number): Float32Array {
  const n = m.length / dim;
  const rng = new Rng(seed);
  const out = new Float32Array(count * rows * dim);
  for (let k = 0; k < count * rows; k++) {
    const r = rng.int(n);
    out.set(m.subarray(r * dim, (r + 1) * dim), k * dim);
  }
  return out;
}

async function trainRun(
  build: ObjectiveBuilder,
  spec: FlowSpec,
  data: Data,
  b: number,
  steps: number,
  epsAt: (step: number, done: StepResult[]) => number,
): Promise<{ results: StepResult[]; params: ParamMap; eps: number[] }> {
  const runner = await OrtStepRunner.create({
    spec,
    objective: build(spec, b, b),
    bx: b,
    by: b,
    params: initFlowParams(spec, 3),
    adam: { lr: 1e-3, totalSteps: steps, clipNorm: 10 },
    eps: 0,
    stepsPerCall: 4,
  });
  const xs = batches(data.inliers, spec.dim, b, steps, 101);
  const ys = batches(data.contrast, spec.dim, b, steps, 202);
  const results: StepResult[] = [];
  const eps: number[] = [];
  try {
    for (let s = 0; s < steps;) {
      const n = Math.min(4, steps - s);
      const e = Math.fround(epsAt(s, results));
      runner.setEps(e);
      for (let k = 0; k < n; k++) eps.push(e);
      const off = s * b * spec.dim;
      results.push(
        ...(await runner.steps(
          n,
          xs.subarray(off, off + n * b * spec.dim),
          ys.subarray(off, off + n * b * spec.dim),
        )),
      );
      s += n;
    }
    return { results, params: runner.snapshot(), eps };
  } finally {
    await runner.dispose();
  }
}

describe('sparse CF backward in ONNX Runtime', () => {
  const B = 64;
  // ε = 0 (the paper's setting on L2-normalized features) for 30 steps, then the previous
  // step's mean contrast log p (about half above) for 30, then −1e9 (all above) for 20 and
  // +1e9 (none) for 20. The dense run sets the schedule; the sparse run replays it.
  const epsAt = (s: number, done: StepResult[]): number =>
    s < 30 ? 0 : s < 60 ? -done[done.length - 1].contrastNll : s < 80 ? -1e9 : 1e9;

  it('100 steps sparse vs dense agree to float32 tolerance (MoCo CIFAR deer vs all when available)', async () => {
    const moco = await loadMocoCifar('deer');
    if (!moco)
      console.warn('sparseContrast: no CIFAR MoCo workspace on this machine, using synthetic features');
    const data: Data = moco ?? syntheticData();
    const spec = makeFlowSpec(data.dim, { blocks: 4, hidden: 64 }, 7);
    const dense = await trainRun(cfObjective, spec, data, B, 100, epsAt);
    const sparse = await trainRun(cfSparseObjective, spec, data, B, 100, (s) => dense.eps[s]);
    const share = (r: StepResult[], from: number, to: number) =>
      r.slice(from, to).map((s) => s.contrastAboveEps);
    const partial = share(dense.results, 0, 60);
    console.log(
      `sparseContrast (${data.source}): share above ε over steps 1–60 ${(Math.min(...partial) * 100).toFixed(0)}–${(Math.max(...partial) * 100).toFixed(0)} %, ` +
        `strictly between 0 and 100 % in ${partial.filter((v) => v > 0 && v < 1).length} of 60 steps (ε = 0 up to step 30: ${(partial[29] * 100).toFixed(0)} % at step 30)`,
    );
    // the flow starts far from the features: 0 % above ε = 0 for the first ~20 steps, then partial
    expect(partial.filter((v) => v > 0 && v < 1).length).toBeGreaterThanOrEqual(25);
    expect(share(dense.results, 60, 80).every((v) => v === 1)).toBe(true);
    expect(share(dense.results, 80, 100).every((v) => v === 0)).toBe(true);
    let lossRel = 0;
    dense.results.forEach((d, i) => {
      const s = sparse.results[i];
      expect(Number.isFinite(s.loss)).toBe(true);
      lossRel = Math.max(lossRel, Math.abs(s.loss - d.loss) / Math.max(1, Math.abs(d.loss)));
      expect(s.contrastAboveEps).toBeCloseTo(d.contrastAboveEps, 6);
    });
    let paramRel = 0;
    for (const p of flowParamShapes(spec))
      paramRel = Math.max(paramRel, relError(sparse.params[p.name], dense.params[p.name]));
    console.log(
      `sparseContrast: 100 steps, max relative difference sparse vs dense: loss ${lossRel.toExponential(2)}, parameters ${paramRel.toExponential(2)}`,
    );
    expect(lossRel).toBeLessThan(1e-4);
    expect(paramRel).toBeLessThan(1e-4);
  }, 600_000);
});
