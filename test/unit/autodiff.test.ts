/**
 * The reverse-mode rules (flow/autodiff) against TensorFlow.js autodiff (tf.grads) on the same
 * graphs and inputs, and against float64 central differences: per op, and for the whole CF loss
 * including the clamp of the contrast term.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { appendGradients, VJP_RULES } from '../../src/main/engine/flow/autodiff/gradients';
import { flowParamShapes } from '../../src/main/engine/flow/flowGraph';
import { GraphBuilder, type Graph, type OpName } from '../../src/main/engine/flow/graph';
import { initFlowParams, type ParamMap } from '../../src/main/engine/flow/params';
import { refTensor, runRefGraph, type RefTensor } from '../../src/main/engine/flow/refExecutor';
import { makeFlowSpec, type FlowSpec } from '../../src/main/engine/flow/spec';
import { runTfGraph } from '../../src/main/engine/flow/tfjsExecutor';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { nllObjective } from '../../src/main/engine/train/objectives/nll';
import { Rng } from '../../src/main/engine/util/rng';
import { relError } from '../helpers/relError';

beforeAll(async () => {
  await initTfjs();
});

const N = 5;
const C = 6;

function rand(
  rng: Rng,
  shape: number[],
  opts: { scale?: number; positive?: boolean; awayFrom?: number } = {},
) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = rng.normal() * (opts.scale ?? 1);
    if (opts.positive) v = Math.abs(v) + 0.2;
    // keep kinks (Relu at 0, MaxScalar at s) out of reach of finite differences
    if (opts.awayFrom !== undefined && Math.abs(v - opts.awayFrom) < 0.1)
      v += v >= opts.awayFrom ? 0.1 : -0.1;
    data[i] = Math.fround(v);
  }
  return refTensor(shape, data);
}

interface OpCase {
  graph: Graph; // output `out` is the op's result
  feeds: Record<string, RefTensor>;
  wrt: string[];
  /** the inputs tf.grads can differentiate (its Maximum gradient does not reduce a broadcast scalar) */
  tfWrt: string[];
}

/**
 * One small graph per differentiable op, with loss = Σ out ⊙ R for a fixed random R of the
 * output's shape (so every output element gets a distinct adjoint).
 */
function opCase(op: OpName, rng: Rng): OpCase {
  const g = new GraphBuilder();
  const feeds: Record<string, RefTensor> = {};
  const input = (name: string, shape: number[], o: Parameters<typeof rand>[2] = {}) => {
    feeds[name] = rand(rng, shape, o);
    return g.input(name, shape);
  };
  let out: string;
  const unary = (o: Parameters<typeof rand>[2] = {}) => g.node(op, [input('a', [N, C], o)]);
  switch (op) {
    case 'Dense':
      out = g.dense(input('a', [N, C]), input('w', [C, 4]), input('b', [4]));
      break;
    case 'Relu':
      out = unary({ awayFrom: 0 });
      break;
    case 'Log':
      out = unary({ positive: true });
      break;
    case 'Softplus':
      out = unary({ scale: 3 });
      break;
    case 'Scale':
      out = g.node(op, [input('a', [N, C])], { alpha: -1.7 });
      break;
    case 'AddConst':
      out = g.node(op, [input('a', [N, C])], { c: 0.4 });
      break;
    case 'Add':
    case 'Sub':
      // matrix ± vector: the vector's adjoint sums over rows
      out = g.node(op, [input('a', [N, C]), input('b', [C])]);
      break;
    case 'Mul':
      // matrix ⊙ scalar: the scalar's adjoint sums over everything
      out = g.node(op, [input('a', [N, C]), input('b', [])]);
      break;
    case 'Div':
      out = g.node(op, [input('a', [N, C]), input('b', [C], { positive: true })]);
      break;
    case 'MaxScalar':
      feeds.b = refTensor([], [0.3]);
      out = g.node(op, [input('a', [N, C], { awayFrom: 0.3 }), g.input('b', [])]);
      break;
    case 'SliceCols':
      out = g.node(op, [input('a', [N, C])], { start: 1, end: 4 });
      break;
    case 'SliceRows':
      out = g.node(op, [input('a', [N, C])], { start: 2, end: 4 });
      break;
    case 'ConcatCols':
      out = g.node(op, [input('a', [N, C]), input('b', [N, 2])]);
      break;
    case 'ConcatRows':
      out = g.node(op, [input('a', [N, C]), input('b', [3, C])]);
      break;
    case 'Permute':
      out = g.node(op, [input('a', [N, C])], { perm: [3, 0, 5, 1, 4, 2] });
      break;
    default:
      out = unary();
  }
  const outShape = runRefGraph(g.build([out]), feeds)[out].shape;
  const r = input('r', outShape);
  const loss = g.sumAll(g.mul(out, r), 'loss');
  const wrt = Object.keys(feeds).filter((k) => k !== 'r');
  const tfWrt = op === 'MaxScalar' ? ['a'] : wrt;
  return { graph: g.build([loss]), feeds, wrt, tfWrt };
}

/** tf.grads of the forward graph (float32) */
function tfGrads(graph: Graph, feeds: Record<string, RefTensor>, wrt: string[]): Float32Array[] {
  return tf.tidy(() => {
    const fixed: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) fixed[k] = tf.tensor(Float32Array.from(v.data), v.shape);
    const f = (...xs: tf.Tensor[]) => {
      const env = { ...fixed };
      wrt.forEach((w, i) => (env[w] = xs[i]));
      return runTfGraph(graph, env).loss;
    };
    return tf
      .grads(f)(wrt.map((w) => fixed[w]))
      .map((t) => t.dataSync() as Float32Array);
  });
}

/** the backward graph run by the float64 reference executor */
function refGrads(
  graph: Graph,
  feeds: Record<string, RefTensor>,
  wrt: string[],
  shapes = {},
): Float64Array[] {
  const gg = appendGradients(graph, 'loss', wrt, shapes);
  const env = runRefGraph(gg.graph, feeds);
  return wrt.map((w) => env[gg.grads[w]].data);
}

/** the backward graph run by the TensorFlow.js executor (float32) */
function tfBackward(
  graph: Graph,
  feeds: Record<string, RefTensor>,
  wrt: string[],
  shapes = {},
): Float32Array[] {
  const gg = appendGradients(graph, 'loss', wrt, shapes);
  return tf.tidy(() => {
    const env: Record<string, tf.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) env[k] = tf.tensor(Float32Array.from(v.data), v.shape);
    const out = runTfGraph(gg.graph, env);
    return wrt.map((w) => out[gg.grads[w]].dataSync() as Float32Array);
  });
}

/** float64 central differences of the loss */
function numericGrad(graph: Graph, feeds: Record<string, RefTensor>, w: string, h = 1e-6): Float64Array {
  const x = feeds[w];
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const at = (d: number) => {
      const data = x.data.slice();
      data[i] += d;
      return runRefGraph(graph, { ...feeds, [w]: { shape: x.shape, data } }).loss.data[0];
    };
    out[i] = (at(h) - at(-h)) / (2 * h);
  }
  return out;
}

describe('reverse-mode rules, per op', () => {
  const ops = Object.keys(VJP_RULES) as OpName[];
  it('covers every op the flow and the objectives use', () => {
    const used = new Set<OpName>();
    const spec = makeFlowSpec(C, { blocks: 2, hidden: 8 }, 1);
    for (const obj of [cfObjective(spec, 4, 4), nllObjective(spec, 4)])
      for (const n of obj.graph.nodes) used.add(n.op);
    for (const op of used) expect(ops, `rule for ${op}`).toContain(op);
  });

  for (const op of ops) {
    it(op, () => {
      const { graph, feeds, wrt, tfWrt } = opCase(op, new Rng(op.length * 31 + op.charCodeAt(0)));
      const ref = refGrads(graph, feeds, wrt);
      wrt.forEach((w, i) =>
        expect(
          relError(ref[i], numericGrad(graph, feeds, w)),
          `${op} ∂/∂${w} float64 vs differences`,
        ).toBeLessThan(1e-4),
      );
      const tfAuto = tfGrads(graph, feeds, tfWrt);
      const tfBack = tfBackward(graph, feeds, tfWrt);
      tfWrt.forEach((w, i) => {
        expect(
          relError(ref[wrt.indexOf(w)], tfAuto[i]),
          `${op} ∂/∂${w} float64 rules vs tf.grads`,
        ).toBeLessThan(1e-3);
        expect(relError(tfBack[i], tfAuto[i]), `${op} ∂/∂${w} float32 rules vs tf.grads`).toBeLessThan(1e-3);
      });
    });
  }

  it('sums the adjoints of a tensor used twice, and gives zeros where the loss does not depend', () => {
    const g = new GraphBuilder();
    const a = g.input('a', [N, C]);
    g.input('b', [N, C]); // declared, unused by the loss
    const loss = g.sumAll(g.mul(g.tanh(a), g.exp(a)), 'loss');
    const graph = g.build([loss]);
    const rng = new Rng(5);
    const feeds = { a: rand(rng, [N, C]), b: rand(rng, [N, C]) };
    const [ga, gb] = refGrads(graph, feeds, ['a', 'b']);
    expect(relError(ga, numericGrad(graph, feeds, 'a'))).toBeLessThan(1e-4);
    expect(Array.from(gb)).toEqual(new Array(N * C).fill(0));
  });

  it('joins the adjoints of two halves of a tensor (columns, rows) instead of padding and adding them', () => {
    const g = new GraphBuilder();
    const a = g.input('a', [N + 1, C]);
    // columns 0..2 and 2..C used differently, then rows 0..2 and 2..N+1 of the result
    const left = g.tanh(g.sliceCols(a, 0, 2));
    const right = g.exp(g.sliceCols(a, 2, C));
    const joined = g.concatCols(g.mul(left, left), right);
    const top = g.square(g.sliceRows(joined, 0, 2));
    const bottom = g.tanh(g.sliceRows(joined, 2, N + 1));
    const loss = g.add(g.sumAll(top), g.sumAll(bottom), 'loss');
    const graph = g.build([loss]);
    const grad = appendGradients(graph, 'loss', ['a']);
    const backward = grad.graph.nodes.slice(graph.nodes.length);
    expect(backward.filter((n) => n.op === 'PadCols' || n.op === 'PadRows')).toEqual([]);
    expect(backward.filter((n) => n.op === 'ConcatCols' || n.op === 'ConcatRows').length).toBe(2);
    const feeds = { a: rand(new Rng(8), [N + 1, C]) };
    const [ga] = refGrads(graph, feeds, ['a']);
    expect(relError(ga, numericGrad(graph, feeds, 'a'))).toBeLessThan(1e-4);
    const [tfAuto] = tfGrads(graph, feeds, ['a']);
    expect(relError(tfBackward(graph, feeds, ['a'])[0], tfAuto)).toBeLessThan(1e-3);
  });
});

function perturbedFlow(spec: FlowSpec, seed: number): ParamMap {
  const params = initFlowParams(spec, seed);
  const rng = new Rng(seed + 1);
  for (const [k, v] of Object.entries(params))
    if (/w3|b3|gamma|beta/.test(k)) for (let i = 0; i < v.length; i++) v[i] = Math.fround(rng.normal() * 0.3);
  return params;
}

describe('gradient of the whole CF loss', () => {
  const D = 5;
  const B = 12;
  const spec = makeFlowSpec(D, { blocks: 3, hidden: 10, lastLayerInit: 'scaled' }, 3);
  const params = perturbedFlow(spec, 3);
  const names = flowParamShapes(spec).map((p) => p.name);
  const rng = new Rng(8);
  const x = rand(rng, [B, D]);
  const y = rand(rng, [B, D], { scale: 2.5 });
  const feedsWith = (eps: number): Record<string, RefTensor> => {
    const feeds: Record<string, RefTensor> = { x, y, eps: refTensor([], [eps]) };
    for (const p of flowParamShapes(spec)) feeds[p.name] = refTensor(p.shape, params[p.name]);
    return feeds;
  };
  const graph = cfObjective(spec, B, B).graph;

  it('equals tf.grads for every parameter with ε among the contrast log-densities (some points clamped)', () => {
    const lpy = runRefGraph(graph, feedsWith(0)).contrastLogp.data;
    const sorted = Float64Array.from(lpy).sort();
    const eps = (sorted[B / 2 - 1] + sorted[B / 2]) / 2; // half the contrast points below ε
    const feeds = feedsWith(eps);
    const clamped = runRefGraph(graph, feeds).contrastLogp.data.filter((v) => v < eps).length;
    expect(clamped).toBe(B / 2);
    const ref = refGrads(graph, feeds, names);
    const tfAuto = tfGrads(graph, feeds, names);
    const tfBack = tfBackward(graph, feeds, names);
    names.forEach((n, i) => {
      expect(relError(ref[i], tfAuto[i]), `∂loss/∂${n} float64 rules vs tf.grads`).toBeLessThan(1e-3);
      expect(relError(tfBack[i], tfAuto[i]), `∂loss/∂${n} float32 rules vs tf.grads`).toBeLessThan(1e-3);
    });
    // float64 against central differences on a few parameters
    for (const n of ['b0.w1', 'b2.w3', 'b1.gamma', 'b2.beta'])
      expect(relError(ref[names.indexOf(n)], numericGrad(graph, feeds, n)), n).toBeLessThan(1e-4);
  });

  it('gives contrast points below ε zero gradient: ε above every log p(y) leaves the inlier NLL gradient', () => {
    const feeds = feedsWith(1e6);
    const cf = refGrads(graph, feeds, names);
    const nll = nllObjective(spec, B).graph;
    const inlierOnly = refGrads(nll, { ...feeds }, names, { x: [B, D] });
    names.forEach((n, i) => expect(relError(cf[i], inlierOnly[i]), n).toBeLessThan(1e-12));
    // and ε below every log p(y): the contrast term's gradient is back (the two differ)
    const open = refGrads(graph, feedsWith(-1e6), names);
    expect(relError(open[names.indexOf('b0.w1')], inlierOnly[names.indexOf('b0.w1')])).toBeGreaterThan(1e-3);
  });
});
