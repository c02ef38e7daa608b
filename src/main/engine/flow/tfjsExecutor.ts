/**
 * Runs a `Graph` with TensorFlow.js; differentiable through tf's autodiff.
 *
 * Speed (PERF_NOTES): on wasm, matMul with transposeA/B — what tf's stock matMul gradient
 * uses — is 10× slower than a plain product. Dense therefore has its own gradient that
 * transposes explicitly and then multiplies; Permute is a product with a constant
 * permutation matrix (tf.gather's gradient is missing on wasm) with the same trick.
 */
import * as tf from '@tensorflow/tfjs';
import { interpretGraph, type Graph, type GraphNode } from './graph';

export type TfEnv = Record<string, tf.Tensor>;

/**
 * a·b for 2-D tensors, zeros when a dimension is 0: a batch with no rows (CompressRows kept
 * none) reaches products of inner size 0, which the wasm backend's XNNPACK refuses and then
 * returns uninitialized memory for (it does not throw).
 */
function matMul(a: tf.Tensor2D, b: tf.Tensor2D, ta = false, tb = false): tf.Tensor2D {
  const n = ta ? a.shape[1] : a.shape[0];
  const k = ta ? a.shape[0] : a.shape[1];
  const m = tb ? b.shape[0] : b.shape[1];
  if (n === 0 || k === 0 || m === 0) return tf.zeros([n, m]);
  return tf.matMul(a, b, ta, tb);
}

/** y = x·W + b with gradients dx = dy·Wᵀ, dW = xᵀ·dy, db = Σ_rows dy (explicit transposes). */
const dense = tf.customGrad((x, w, b, save) => {
  (save as tf.GradSaveFunc)([x as tf.Tensor2D, w as tf.Tensor2D]);
  const value = tf.add(matMul(x as tf.Tensor2D, w as tf.Tensor2D), b as tf.Tensor1D);
  return {
    value,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as tf.Tensor2D[];
      const dy2 = dy as tf.Tensor2D;
      return [matMul(dy2, tf.transpose(ws)), matMul(tf.transpose(xs), dy2), tf.sum(dy2, 0)];
    },
  };
}) as (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** Permutation matrices (P, Pᵀ) with x·P = x[:, perm]; cached per permutation, kept alive. */
const permCache = new Map<string, { p: tf.Tensor2D; pt: tf.Tensor2D }>();
function permMatrices(perm: number[]): { p: tf.Tensor2D; pt: tf.Tensor2D } {
  const key = perm.join(',');
  let e = permCache.get(key);
  if (!e) {
    const n = perm.length;
    const p = new Float32Array(n * n);
    const pt = new Float32Array(n * n);
    for (let i = 0; i < n; i++) {
      p[perm[i] * n + i] = 1;
      pt[i * n + perm[i]] = 1;
    }
    e = tf.tidy(() => ({ p: tf.keep(tf.tensor2d(p, [n, n])), pt: tf.keep(tf.tensor2d(pt, [n, n])) }));
    permCache.set(key, e);
  }
  return e;
}

function permute(x: tf.Tensor, perm: number[]): tf.Tensor {
  const { p, pt } = permMatrices(perm);
  const f = tf.customGrad((xx, save) => {
    void save;
    return {
      value: matMul(xx as tf.Tensor2D, p),
      gradFunc: (dy: tf.Tensor) => matMul(dy as tf.Tensor2D, pt),
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}

/**
 * The rows of x where the column m is non-zero. The row count is data-dependent, so the mask is
 * read back (a sync). Like the IR op, it passes no gradient back (x is data; tf.gather's own
 * gradient needs UnsortedSegmentSum, which the wasm backend lacks).
 */
function compressRows(x: tf.Tensor, m: tf.Tensor): tf.Tensor {
  const mask = m.dataSync();
  const keep: number[] = [];
  for (let r = 0; r < mask.length; r++) if (mask[r] !== 0) keep.push(r);
  const f = tf.customGrad((xx, save) => {
    void save;
    return {
      value: tf.gather(xx as tf.Tensor, tf.tensor1d(keep, 'int32'), 0),
      gradFunc: () => tf.zerosLike(xx as tf.Tensor),
    };
  }) as (x: tf.Tensor) => tf.Tensor;
  return f(x);
}

function run(node: GraphNode, ins: tf.Tensor[]): tf.Tensor {
  const a = node.attrs ?? {};
  const [x, y] = ins;
  switch (node.op) {
    case 'Dense':
      return dense(ins[0], ins[1], ins[2]);
    case 'Relu':
      return tf.relu(x);
    case 'Tanh':
      return tf.tanh(x);
    case 'Exp':
      return tf.exp(x);
    case 'Log':
      return tf.log(x);
    case 'Softplus':
      return tf.softplus(x);
    case 'Neg':
      return tf.neg(x);
    case 'Square':
      return tf.square(x);
    case 'Scale':
      return tf.mul(x, a.alpha!);
    case 'AddConst':
      return tf.add(x, a.c!);
    case 'Add':
      return tf.add(x, y);
    case 'Sub':
      return tf.sub(x, y);
    case 'Mul':
      return tf.mul(x, y);
    case 'MaxScalar':
      return tf.maximum(x, y);
    case 'SliceCols':
      return tf.slice(x, [0, a.start!], [-1, a.end! - a.start!]);
    case 'SliceRows':
      return x.rank === 1
        ? tf.slice(x, [a.start!], [a.end! - a.start!])
        : tf.slice(x, [a.start!, 0], [a.end! - a.start!, -1]);
    case 'ConcatCols':
      return tf.concat([x, y], 1);
    case 'ConcatRows':
      return tf.concat([x, y], 0);
    case 'Permute':
      return permute(x, a.perm!);
    case 'RowSum':
      return tf.sum(x, 1);
    case 'SumAll':
      return tf.sum(x);
    case 'Mean':
      return tf.mean(x);
    case 'Const':
      return tf.scalar(a.c!);
    case 'MatMulNT':
      return matMul(x as tf.Tensor2D, y as tf.Tensor2D, false, true);
    case 'MatMulTN':
      return matMul(x as tf.Tensor2D, y as tf.Tensor2D, true, false);
    case 'ColSum':
      return tf.sum(x, 0);
    case 'PassIfPositive':
      return tf.mul(x, tf.cast(tf.greater(y, 0), 'float32'));
    case 'GeMask':
      return tf.cast(tf.greaterEqual(x, y), 'float32');
    case 'Sigmoid':
      return tf.sigmoid(x);
    case 'Div':
      return tf.div(x, y);
    case 'PadCols':
      return tf.pad(x, [
        [0, 0],
        [a.start!, a.size! - a.start! - x.shape[1]!],
      ]);
    case 'PadRows':
      return tf.pad(
        x,
        x.rank === 1
          ? [[a.start!, a.size! - a.start! - x.shape[0]]]
          : [
              [a.start!, a.size! - a.start! - x.shape[0]],
              [0, 0],
            ],
      );
    case 'BroadcastCols':
      return tf.tile(tf.expandDims(x, 1), [1, a.size!]);
    case 'Fill':
      return tf.mul(tf.ones(a.shape!), x);
    case 'FillLike':
      return tf.mul(tf.ones(y.shape), x);
    case 'CompressRows':
      return compressRows(x, y);
  }
}

/**
 * Runs `graph` on `feeds` (inputs and params by name; params may be tf.Variables).
 * Returns the environment with every computed tensor; call inside tf.tidy.
 */
export function runTfGraph(graph: Graph, feeds: TfEnv): TfEnv {
  return interpretGraph<tf.Tensor>(graph, feeds, run, 'tfjs executor');
}
