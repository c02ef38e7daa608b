/**
 * The ONNX Runtime training backend (train/ort): its backward pass in ONNX against tf.grads,
 * the same loss curve as TensorFlow.js from the same seed and batches, the same AUROC on the
 * shared tabular data, and the loop's contracts (progress, cancellation, NaN guard, backend
 * choice, no per-step state copies).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chooseTrainBackend } from '../../src/main/engine/backend/trainBackend';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { loadTable } from '../../src/main/engine/data/table';
import { tabularProtocolSplit } from '../../src/main/engine/data/split';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { auroc } from '../../src/main/engine/eval/auroc';
import { emitIrGraph, floatValueInfo, OnnxEmitter } from '../../src/main/engine/flow/onnxGraph';
import { appendGradients } from '../../src/main/engine/flow/autodiff/gradients';
import { flowParamShapes } from '../../src/main/engine/flow/flowGraph';
import { initFlowParams, type ParamMap } from '../../src/main/engine/flow/params';
import { makeFlowSpec, type FlowSpec } from '../../src/main/engine/flow/spec';
import { runTfGraph } from '../../src/main/engine/flow/tfjsExecutor';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { nllObjective } from '../../src/main/engine/train/objectives/nll';
import { oeObjective } from '../../src/main/engine/train/objectives/oe';
import { DEFAULT_ORT_STEPS_PER_CALL, OrtStepRunner } from '../../src/main/engine/train/ort/ortStepRunner';
import { buildTrainLoopModel } from '../../src/main/engine/train/ort/trainLoopGraph';
import { buildTrainStepModel, flatLayout, SMALL_GROUP } from '../../src/main/engine/train/ort/trainStepGraph';
import {
  CALL_TARGET_MS,
  DEFAULT_TRAIN,
  stepsForNextCall,
  trainFlow,
  type TrainOptions,
} from '../../src/main/engine/train/trainer';
import { CancelledError, UserError } from '../../src/main/engine/util/errors';
import { takeRows, type Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';
import { relError } from '../helpers/relError';

const { onnx } = onnxProto;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const thyroid = path.resolve(root, '../shared/data/tabular/thyroid.csv');
const haveThyroid = fs.existsSync(thyroid);
if (!haveThyroid) console.warn(`skipping the thyroid AUROC parity: ${thyroid} is missing (../shared/data)`);

beforeAll(async () => {
  await initTfjs();
});
const envBefore = process.env.CFSTUDIO_TRAIN_BACKEND;
afterEach(() => {
  if (envBefore === undefined) delete process.env.CFSTUDIO_TRAIN_BACKEND;
  else process.env.CFSTUDIO_TRAIN_BACKEND = envBefore;
});

function gaussian(rows: number, cols: number, seed: number, scale = 1): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() * scale + (i % cols) * 0.3;
  return { rows, cols, data };
}

describe('the backward pass in ONNX Runtime', () => {
  it('∂(CF loss)/∂θ equals tf.grads for every parameter (float32, clamp active)', async () => {
    const D = 6;
    const B = 16;
    const spec = makeFlowSpec(D, { blocks: 3, hidden: 12, lastLayerInit: 'scaled' }, 2);
    const params = initFlowParams(spec, 2);
    const x = gaussian(B, D, 1);
    const y = gaussian(B, D, 2, 3);
    const graph = cfObjective(spec, B, B).graph;
    const names = flowParamShapes(spec).map((p) => p.name);
    const gg = appendGradients(graph, 'loss', names, {});
    // ε at the median contrast log-density: half the contrast points are clamped
    const feedsTf = (): Record<string, tf.Tensor> => {
      const f: Record<string, tf.Tensor> = {
        x: tf.tensor2d(x.data, [B, D]),
        y: tf.tensor2d(y.data, [B, D]),
        eps: tf.scalar(0),
      };
      for (const p of flowParamShapes(spec)) f[p.name] = tf.tensor(params[p.name], p.shape);
      return f;
    };
    const lpy = tf.tidy(() => runTfGraph(graph, feedsTf()).contrastLogp.dataSync() as Float32Array).slice();
    const eps = Array.from(lpy).sort((a, b) => a - b)[B / 2];
    const expected = tf.tidy(() => {
      const base: Record<string, tf.Tensor> = { ...feedsTf(), eps: tf.scalar(eps) };
      const f = (...ps: tf.Tensor[]) => {
        const env = { ...base };
        names.forEach((n, i) => (env[n] = ps[i]));
        return runTfGraph(graph, env).loss;
      };
      return tf
        .grads(f)(names.map((n) => base[n]))
        .map((t) => (t.dataSync() as Float32Array).slice());
    });

    const e = new OnnxEmitter('g/', 17);
    const bind: Record<string, string> = {};
    for (const d of [...graph.inputs, ...graph.params]) bind[d.name] = d.name;
    const outs = emitIrGraph(e, gg.graph, { bind });
    const gradNames = names.map((n) => outs[gg.grads[n]]);
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: onnx.GraphProto.create({
        name: 'grads',
        node: e.nodes,
        initializer: e.initializers,
        input: [...graph.inputs, ...graph.params].map((d) =>
          floatValueInfo(d.name, d.name === 'eps' ? [] : (gg.shapes[d.name] as number[])),
        ),
        output: gradNames.map((name) =>
          onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } }),
        ),
      }),
    });
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const feeds: Record<string, ort.Tensor> = {
      x: new ort.Tensor('float32', x.data, [B, D]),
      y: new ort.Tensor('float32', y.data, [B, D]),
      eps: new ort.Tensor('float32', Float32Array.of(eps), []),
    };
    for (const p of flowParamShapes(spec)) feeds[p.name] = new ort.Tensor('float32', params[p.name], p.shape);
    const r = await session.run(feeds);
    await session.release();
    names.forEach((n, i) =>
      expect(relError(r[gradNames[i]].data as Float32Array, expected[i]), `∂loss/∂${n}`).toBeLessThan(1e-3),
    );
  });
});

/** Rows with strongly correlated columns: their permutation contrast is far from them. */
function correlated(rows: number, cols: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const z = rng.normal();
    for (let j = 0; j < cols; j++) data[r * cols + j] = z * (j % 2 ? 1 : -1) + 0.3 * rng.normal();
  }
  return { rows, cols, data };
}

describe('the training-step graph', () => {
  it('outputs the losses, the clamped / above-ε counts, ‖g‖ and lr of adam.ts for one step', async () => {
    const D = 5;
    const B = 20;
    const spec = makeFlowSpec(D, { blocks: 2, hidden: 8, lastLayerInit: 'scaled' }, 6);
    const params = initFlowParams(spec, 6);
    const objective = cfObjective(spec, B, B);
    const x = gaussian(B, D, 21);
    const y = gaussian(B, D, 22, 2);
    const lpy = tf
      .tidy(() => {
        const f: Record<string, tf.Tensor> = {
          x: tf.tensor2d(x.data, [B, D]),
          y: tf.tensor2d(y.data, [B, D]),
          eps: tf.scalar(0),
        };
        for (const p of flowParamShapes(spec)) f[p.name] = tf.tensor(params[p.name], p.shape);
        return runTfGraph(objective.graph, f).contrastLogp.dataSync() as Float32Array;
      })
      .slice();
    const sorted = Array.from(lpy).sort((a, b) => a - b);
    const eps = (sorted[6] + sorted[7]) / 2; // 7 of 20 contrast points clamped
    const adam = { lr: 2e-3, totalSteps: 50, clipNorm: 0.5 };
    const model = buildTrainStepModel({ spec, objective, bx: B, by: B, adam });
    const session = await ort.InferenceSession.create(model.bytes);
    const P = model.paramCount;
    const theta = new Float32Array(P);
    for (const s of model.slots) theta.set(params[s.name], s.offset);
    const t = 7; // steps done before this one
    const r = await session.run({
      theta: new ort.Tensor('float32', theta, [P]),
      adam_m: new ort.Tensor('float32', new Float32Array(P), [P]),
      adam_v: new ort.Tensor('float32', new Float32Array(P), [P]),
      step: new ort.Tensor('float32', Float32Array.of(t), []),
      x: new ort.Tensor('float32', x.data, [B, D]),
      y: new ort.Tensor('float32', y.data, [B, D]),
      eps: new ort.Tensor('float32', Float32Array.of(eps), []),
    });
    await session.release();
    const scalar = (k: string) => (r[k].data as Float32Array)[0];
    expect(scalar('contrast_clamped')).toBe(7);
    expect(scalar('contrast_above')).toBe(13);
    const meanOf = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(scalar('contrast_nll')).toBeCloseTo(-meanOf(lpy), 3);
    expect(scalar('loss')).toBeCloseTo(scalar('inlier_nll') + meanOf(lpy.map((v) => Math.max(v, eps))), 3);
    expect(scalar('lr')).toBeCloseTo(2e-3 * 0.5 * (1 + Math.cos((Math.PI * t) / 50)), 8);
    // from zero moments, Adam moves each θ_i by at most lr_t·((1−β1)/c1)/√((1−β2)/c2), c_k = 1 − β_k^(t+1)
    expect(scalar('grad_norm')).toBeGreaterThan(0.5); // and the clipping branch is taken
    const next = r.theta_next.data as Float32Array;
    const bound = (scalar('lr') * (0.1 / (1 - 0.9 ** (t + 1)))) / Math.sqrt(0.001 / (1 - 0.999 ** (t + 1)));
    let moved = 0;
    for (let i = 0; i < P; i++) {
      expect(Math.abs(next[i] - theta[i])).toBeLessThanOrEqual(bound * (1 + 1e-4));
      if (next[i] !== theta[i]) moved++;
    }
    expect(moved).toBeGreaterThan(P / 2);
  });
});

describe('the state layout', () => {
  it('holds every parameter once: large weights as their own groups, the rest in one flat group', () => {
    const check = (spec: FlowSpec, minSize?: number) => {
      const { slots, groups, paramCount } = flatLayout(spec, minSize);
      const shapes = flowParamShapes(spec);
      expect(paramCount).toBe(shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0));
      expect(slots.map((s) => s.name).sort()).toEqual(shapes.map((s) => s.name).sort());
      // groups tile [0, P) in order, and each group's members tile the group
      let at = 0;
      for (const g of groups) {
        expect(g.offset).toBe(at);
        let m = g.offset;
        for (const s of g.members) {
          expect(s.offset).toBe(m);
          m += s.size;
        }
        expect(m - g.offset).toBe(g.size);
        at += g.size;
      }
      expect(at).toBe(paramCount);
      const rest = groups.find((g) => g.name === SMALL_GROUP);
      if (rest) expect(groups.at(-1)).toBe(rest);
      return groups;
    };
    // the bench's flow: the eight H×H weights alone; W1, W3, biases, γ, β in one group
    const big = check(makeFlowSpec(128, { blocks: 8, hidden: 512 }, 1));
    expect(big.filter((g) => g.name !== SMALL_GROUP).map((g) => g.name)).toEqual(
      Array.from({ length: 8 }, (_, k) => `b${k}.w2`),
    );
    expect(big.filter((g) => g.name !== SMALL_GROUP).map((g) => g.members.map((m) => m.name))).toEqual(
      Array.from({ length: 8 }, (_, k) => [`b${k}.w2`]),
    );
    expect(big.at(-1)!.size).toBe(8 * (64 * 512 + 512 + 512 + 512 * 128 + 128 + 128 + 128));
    // small flows: everything in one group; a minimum of 1 makes every weight its own group
    expect(check(makeFlowSpec(10, { blocks: 3, hidden: 16 }, 1)).map((g) => g.name)).toEqual([SMALL_GROUP]);
    const each = check(makeFlowSpec(10, { blocks: 3, hidden: 16 }, 1), 1);
    expect(each.filter((g) => g.name !== SMALL_GROUP)).toHaveLength(9);
    expect(each.at(-1)!.members.map((s) => s.shape.length)).toEqual(new Array(3 * 5).fill(1));
  });
});

describe('state groups', () => {
  it('give the same step whether every weight is a group or all parameters are one', async () => {
    const D = 6;
    const B = 10;
    const spec = makeFlowSpec(D, { blocks: 2, hidden: 12, lastLayerInit: 'scaled' }, 4);
    const params = initFlowParams(spec, 4);
    const base = {
      spec,
      objective: cfObjective(spec, B, B),
      bx: B,
      by: B,
      adam: { lr: 1e-2, totalSteps: 10, clipNorm: 0.5 },
    };
    const x = new ort.Tensor('float32', gaussian(B, D, 41).data, [B, D]);
    const y = new ort.Tensor('float32', gaussian(B, D, 42, 2).data, [B, D]);
    const stepWith = async (ownGroupMinSize: number | undefined) => {
      const model = buildTrainStepModel({ ...base, ownGroupMinSize });
      const session = await ort.InferenceSession.create(model.bytes);
      const P = model.paramCount;
      const theta = new Float32Array(P);
      const m = new Float32Array(P);
      for (const s of model.slots) {
        theta.set(params[s.name], s.offset);
        m.set(
          params[s.name].map((v) => v * 0.01),
          s.offset,
        ); // non-zero moments: their layout matters
      }
      const r = await session.run({
        theta: new ort.Tensor('float32', theta, [P]),
        adam_m: new ort.Tensor('float32', m, [P]),
        adam_v: new ort.Tensor(
          'float32',
          m.map((v) => v * v),
          [P],
        ),
        step: new ort.Tensor('float32', Float32Array.of(3), []),
        x,
        y,
        eps: new ort.Tensor('float32', Float32Array.of(-7), []),
      });
      await session.release();
      const per: Record<string, Float32Array> = {};
      for (const kind of ['theta_next', 'adam_m_next', 'adam_v_next'])
        for (const s of model.slots)
          per[`${kind} ${s.name}`] = (r[kind].data as Float32Array).slice(s.offset, s.offset + s.size);
      return { groups: model.groups.length, per, norm: (r.grad_norm.data as Float32Array)[0] };
    };
    const one = await stepWith(undefined);
    const each = await stepWith(1);
    expect(one.groups).toBe(1);
    expect(each.groups).toBe(7); // 2 blocks × 3 weights + the rest
    expect(each.norm).toBeGreaterThan(0.5); // clipping is active
    expect(Math.abs(each.norm - one.norm)).toBeLessThan(1e-5 * one.norm);
    for (const [k, v] of Object.entries(one.per)) expect(relError(each.per[k], v), k).toBeLessThan(1e-5);
  });
});

describe('the K-step Loop graph', () => {
  it.each([
    ['one flat group', undefined],
    ['a group per weight', 1],
  ])('runs n ≤ K steps that equal n one-step calls bit for bit (%s)', async (_, ownGroupMinSize) => {
    const D = 6;
    const B = 12;
    const K = 4;
    const spec = makeFlowSpec(D, { blocks: 2, hidden: 10, lastLayerInit: 'scaled' }, 3);
    const params = initFlowParams(spec, 3);
    const o = {
      spec,
      objective: cfObjective(spec, B, B),
      bx: B,
      by: B,
      adam: { lr: 5e-3, totalSteps: 20, clipNorm: 1 },
      ownGroupMinSize,
    };
    const one = buildTrainStepModel(o);
    const loop = buildTrainLoopModel(o);
    expect(loop.perStepOutputs).toEqual(one.outputs.filter((n) => !n.endsWith('_next')));
    expect(loop.groups.length).toBe(ownGroupMinSize === 1 ? 7 : 1); // 2 blocks × 3 weights + the rest
    const s1 = await ort.InferenceSession.create(one.bytes);
    const sK = await ort.InferenceSession.create(loop.bytes);
    const P = one.paramCount;
    const theta = new Float32Array(P);
    for (const s of one.slots) theta.set(params[s.name], s.offset);
    const xs = gaussian(K * B, D, 31).data;
    const ys = gaussian(K * B, D, 32, 2).data;
    const eps = new ort.Tensor('float32', Float32Array.of(-8), []);
    const zeros = () => new ort.Tensor('float32', new Float32Array(P), [P]);
    try {
      for (const n of [K, 3]) {
        // reference: n calls of the one-step graph, from step t = 5
        let st: Record<string, ort.Tensor> = {
          theta: new ort.Tensor('float32', theta, [P]),
          adam_m: zeros(),
          adam_v: zeros(),
        };
        const ref: Record<string, number[]> = {};
        for (let k = 0; k < n; k++) {
          const r = await s1.run({
            ...st,
            step: new ort.Tensor('float32', Float32Array.of(5 + k), []),
            x: new ort.Tensor('float32', xs.slice(k * B * D, (k + 1) * B * D), [B, D]),
            y: new ort.Tensor('float32', ys.slice(k * B * D, (k + 1) * B * D), [B, D]),
            eps,
          });
          for (const name of loop.perStepOutputs) (ref[name] ??= []).push((r[name].data as Float32Array)[0]);
          st = {
            theta: r.theta_next as ort.Tensor,
            adam_m: r.adam_m_next as ort.Tensor,
            adam_v: r.adam_v_next as ort.Tensor,
          };
        }
        const r = await sK.run({
          theta: new ort.Tensor('float32', theta, [P]),
          adam_m: zeros(),
          adam_v: zeros(),
          step: new ort.Tensor('float32', Float32Array.of(5), []),
          xs: new ort.Tensor('float32', xs.slice(0, n * B * D), [n, B, D]),
          ys: new ort.Tensor('float32', ys.slice(0, n * B * D), [n, B, D]),
          eps,
        });
        for (const name of loop.perStepOutputs)
          expect(Array.from(r[name].data as Float32Array), name).toEqual(ref[name]);
        expect(ref.contrast_clamped.some((c) => c > 0)).toBe(true); // the clamp is exercised
        expect(ref.lr[n - 1]).not.toBe(ref.lr[0]); // and the schedule moves with the step number
        expect(Array.from(r.theta_next.data as Float32Array)).toEqual(
          Array.from(st.theta.data as Float32Array),
        );
        expect(Array.from(r.adam_m_next.data as Float32Array)).toEqual(
          Array.from(st.adam_m.data as Float32Array),
        );
        expect(Array.from(r.adam_v_next.data as Float32Array)).toEqual(
          Array.from(st.adam_v.data as Float32Array),
        );
      }
    } finally {
      await s1.release();
      await sK.release();
    }
  });
});

function baseOptions(over: Partial<TrainOptions> = {}): TrainOptions {
  const spec = makeFlowSpec(6, { blocks: 4, hidden: 32, lastLayerInit: 'scaled' }, 4);
  return {
    spec,
    objective: cfObjective,
    inliers: correlated(600, 6, 11),
    heldOut: correlated(100, 6, 12),
    contrast: 'permutation',
    eps: -9,
    config: { ...DEFAULT_TRAIN, steps: 100, batchSize: 64, evalEvery: 50, seed: 5 },
    init: initFlowParams(spec, 5),
    dataInit: true,
    progressEvery: 1,
    ...over,
  };
}

describe('ort training backend vs TensorFlow.js', () => {
  it('follows the same CF loss curve for 100 steps from the same seed and batches', async () => {
    const ortRun = await trainFlow(baseOptions({ trainBackend: 'ort' }));
    const tfRun = await trainFlow(baseOptions({ trainBackend: 'tfjs' }));
    expect(ortRun.backend).toBe('ort-cpu');
    expect(tfRun.backend).toMatch(/^tfjs-/);
    expect(ortRun.history).toHaveLength(100);
    let worst = 0;
    ortRun.history.forEach((p, i) => {
      const q = tfRun.history[i];
      expect(p.step).toBe(q.step);
      worst = Math.max(worst, Math.abs(p.loss - q.loss) / Math.max(1, Math.abs(q.loss)));
      expect(Math.abs(p.inlierNll - q.inlierNll)).toBeLessThan(1e-3 * Math.max(1, Math.abs(q.inlierNll)));
      expect(Math.abs(p.contrastNll - q.contrastNll)).toBeLessThan(
        1e-3 * Math.max(1, Math.abs(q.contrastNll)),
      );
    });
    expect(worst).toBeLessThan(1e-3);
    // the clamp is active for part of the run (the ε test is not vacuous) and both agree on it
    const shares = ortRun.history.map((p) => p.contrastAboveEps);
    expect(Math.min(...shares)).toBeLessThan(1);
    expect(Math.max(...shares)).toBeGreaterThan(0);
    expect(
      relError(
        shares,
        tfRun.history.map((p) => p.contrastAboveEps),
      ),
    ).toBeLessThan(0.05);
    expect(Math.abs(ortRun.finalHeldOutNll! - tfRun.finalHeldOutNll!)).toBeLessThan(1e-3);
    // Adam's normalized steps amplify float32 rounding in near-zero gradients: parameters agree to 1 %
    for (const [k, v] of Object.entries(tfRun.params))
      expect(relError(ortRun.params[k], v), k).toBeLessThan(1e-2);
    // training did something
    expect(ortRun.history[99].inlierNll).toBeLessThan(ortRun.history[0].inlierNll - 1);
    expect(ortRun.history[99].contrastNll).toBeGreaterThan(ortRun.history[0].contrastNll + 1);
  }, 60_000);

  it('follows the same OE curve (paired contrast, hinge through Relu, no ε input)', async () => {
    const o = {
      objective: oeObjective(1, 1),
      eps: undefined,
      config: { ...baseOptions().config, steps: 40 },
    };
    const a = await trainFlow(baseOptions({ ...o, trainBackend: 'ort' }));
    const b = await trainFlow(baseOptions({ ...o, trainBackend: 'tfjs' }));
    a.history.forEach((p, i) => {
      const q = b.history[i];
      expect(Math.abs(p.loss - q.loss)).toBeLessThan(1e-3 * Math.max(1, Math.abs(q.loss)));
      expect(p.contrastAboveEps).toBe(q.contrastAboveEps);
    });
  }, 60_000);

  it('follows the same NLL curve (no contrast input) and reports no contrast', async () => {
    const o = { objective: nllObjective, contrast: null, config: { ...baseOptions().config, steps: 40 } };
    const a = await trainFlow(baseOptions({ ...o, trainBackend: 'ort' }));
    const b = await trainFlow(baseOptions({ ...o, trainBackend: 'tfjs' }));
    a.history.forEach((p, i) => expect(Math.abs(p.loss - b.history[i].loss)).toBeLessThan(1e-3));
    expect(a.history.every((p) => Number.isNaN(p.contrastNll) && Number.isNaN(p.contrastAboveEps))).toBe(
      true,
    );
  }, 60_000);

  it('gives the same run, evaluations and early stop whatever the steps per ort call (K ∤ evalEvery)', async () => {
    // evaluations every 7 steps: calls of K = 8 or 5 steps must end at 7, 14, 21, … to evaluate
    // the parameters of exactly that step; the Loop is bit-exact, so every K gives the same run
    const o = { config: { ...baseOptions().config, steps: 120, evalEvery: 7, patience: 1, lr: 3e-2 } };
    const runs = [];
    for (const K of [1, 5, 8])
      runs.push(await trainFlow(baseOptions({ ...o, trainBackend: 'ort', ortStepsPerCall: K })));
    const [one, five, eight] = runs;
    expect(one.stoppedEarly).toBe(true); // early stopping is exercised
    expect(one.steps % 7).toBe(0);
    const evals = one.history.filter((p) => p.heldOutNll !== null).map((p) => p.step);
    expect(evals).toEqual(Array.from({ length: one.steps / 7 }, (_, i) => 7 * (i + 1)));
    for (const r of [five, eight]) {
      expect(r.history).toEqual(one.history);
      expect(r.steps).toBe(one.steps);
      expect(r.finalHeldOutNll).toBe(one.finalHeldOutNll);
      for (const [k, v] of Object.entries(one.params))
        expect(Array.from(r.params[k]), k).toEqual(Array.from(v));
    }
  }, 60_000);

  it.skipIf(!haveThyroid)(
    'reaches the same AUROC on thyroid (tabular protocol, permutation contrast)',
    async () => {
      const table = loadTable(thyroid, { labelColumn: 'label', requireLabel: true });
      // the tabular protocol's split (60 % of normal rows train), permutation contrast
      const split = tabularProtocolSplit(table.labels!, 0.6, 0, table.source);
      const train = takeRows(table.x, split.train);
      const test = takeRows(table.x, split.testIdx);
      const aurocWith = async (backend: 'ort' | 'tfjs') => {
        process.env.CFSTUDIO_TRAIN_BACKEND = backend;
        const c = defaultDetectorConfig('cf', 'standardize');
        c.flow = { ...c.flow, blocks: 4, hidden: 64 };
        c.train = { ...c.train, steps: 300, seed: 0 };
        const det = await fitDetector({ inliers: train, columns: table.columns, contrast: 'permutation' }, c);
        expect(det.meta.phases.map((p) => p.trainBackend)).toEqual([
          backend === 'ort' ? 'ort-cpu' : `tfjs-${tf.getBackend()}`,
        ]);
        const { score } = await scoreDetector(det, test, table.source);
        return auroc(score, split.testLabels) * 100;
      };
      const a = await aurocWith('ort');
      const b = await aurocWith('tfjs');
      console.log(`thyroid CF AUROC: ort ${a.toFixed(2)}, tfjs ${b.toFixed(2)}`);
      expect(a).toBeGreaterThan(94);
      expect(Math.abs(a - b)).toBeLessThan(0.5);
    },
    120_000,
  );
});

describe('ort training backend: the loop contracts', () => {
  it('reports progress with the lr schedule, and cancels between calls', async () => {
    const ctl = new AbortController();
    const seen: number[] = [];
    const lrs: number[] = [];
    const run = trainFlow(
      baseOptions({
        trainBackend: 'ort',
        signal: ctl.signal,
        progressEvery: 5,
        onProgress: (p) => {
          seen.push(p.step);
          lrs.push(p.lr);
          if (p.step === 20) ctl.abort();
        },
      }),
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    // cancellation takes effect when the running call of ≤ K steps returns
    expect(seen.slice(0, 4)).toEqual([5, 10, 15, 20]);
    expect(Math.max(...seen)).toBeLessThan(20 + DEFAULT_ORT_STEPS_PER_CALL);
    // cosine schedule, 100 steps, lr 1e-3: the lr of step s (t = s − 1 steps done)
    lrs.forEach((lr, i) => {
      const t = seen[i] - 1;
      expect(lr).toBeCloseTo(1e-3 * 0.5 * (1 + Math.cos((Math.PI * t) / 100)), 8);
    });
  });

  it('sizes each call to the measured speed, the end of training and the next evaluation', () => {
    const next = (msPerStep: number, remaining = 100, toNextEval = Infinity) =>
      stepsForNextCall({ maxPerCall: 8, msPerStep, remaining, toNextEval });
    expect(next(0)).toBe(1); // the first call measures
    expect(next(120)).toBe(8); // the D=128/H=512 flow: K steps per call
    expect(next(CALL_TARGET_MS / 3)).toBe(3); // a large flow: calls of ≤ CALL_TARGET_MS
    expect(next(10 * CALL_TARGET_MS)).toBe(1);
    expect(next(1, 5)).toBe(5);
    expect(next(1, 100, 2)).toBe(2);
  });

  it('stops with a clear error when the loss is not finite, and keeps the last good state', async () => {
    const inliers = gaussian(200, 6, 3);
    inliers.data[7] = NaN;
    await expect(trainFlow(baseOptions({ trainBackend: 'ort', inliers, dataInit: false }))).rejects.toThrow(
      /diverged at step \d+: the loss became NaN/,
    );
    const spec = baseOptions().spec;
    const params: ParamMap = initFlowParams(spec, 1);
    const runner = await OrtStepRunner.create({
      spec,
      objective: nllObjective(spec, 4),
      bx: 4,
      by: 4,
      params,
      adam: { lr: 1e-2, totalSteps: 10, clipNorm: 10 },
      eps: 0,
      stepsPerCall: 3,
    });
    try {
      const before = runner.theta;
      // three steps in one call, the second on a NaN batch: none of the call's state is adopted
      const bad = new Float32Array(3 * 4 * 6);
      bad.set(gaussian(12, 6, 8).data);
      bad.fill(NaN, 4 * 6, 2 * 4 * 6);
      const results = await runner.steps(3, bad, null);
      expect(results.map((r) => Number.isFinite(r.loss))).toEqual([true, false, false]);
      expect(runner.theta).toBe(before); // the call's outputs were not adopted
      for (const [k, v] of Object.entries(runner.snapshot()))
        expect(Array.from(v), k).toEqual(Array.from(params[k]));
      const good = gaussian(4, 6, 9).data;
      expect(Number.isFinite((await runner.steps(1, good, null))[0].loss)).toBe(true);
      expect(runner.theta).not.toBe(before); // the step's θ' output is the next step's θ input
      expect(relError(runner.snapshot()['b0.w1'], params['b0.w1'])).toBeGreaterThan(0);
    } finally {
      await runner.dispose();
    }
  });

  it('chooses the backend from the option, then CFSTUDIO_TRAIN_BACKEND, else auto (ort when it runs)', async () => {
    delete process.env.CFSTUDIO_TRAIN_BACKEND;
    expect(await chooseTrainBackend()).toMatchObject({ kind: 'ort', source: 'default', requested: 'auto' });
    process.env.CFSTUDIO_TRAIN_BACKEND = 'tfjs';
    expect(await chooseTrainBackend()).toMatchObject({ kind: 'tfjs', source: 'env' });
    expect(await chooseTrainBackend('ort')).toMatchObject({ kind: 'ort', source: 'option' });
    process.env.CFSTUDIO_TRAIN_BACKEND = 'cuda';
    await expect(chooseTrainBackend()).rejects.toBeInstanceOf(UserError);
    process.env.CFSTUDIO_TRAIN_BACKEND = 'tfjs';
    const r = await trainFlow(baseOptions({ config: { ...baseOptions().config, steps: 3 } }));
    expect(r.backend).toMatch(/^tfjs-/);
    expect(r.backendDetail).toMatch(/CFSTUDIO_TRAIN_BACKEND/);
  });
});
