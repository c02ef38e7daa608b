/**
 * A trained (or initialized) flow — spec + parameters — and what one does with it:
 * log-density, exact inverse, sampling. All run the graphs of `flowGraph.ts` on TensorFlow.js.
 */
import * as tf from '@tensorflow/tfjs';
import { matrix, type Matrix } from '../util/matrix';
import { Rng } from '../util/rng';
import { buildInverseGraph, buildLogProbGraph, flowParamShapes } from './flowGraph';
import type { Graph } from './graph';
import type { ParamMap } from './params';
import type { FlowSpec } from './spec';
import { runTfGraph, type TfEnv } from './tfjsExecutor';

export interface FlowModel {
  spec: FlowSpec;
  params: ParamMap;
}

const graphCache = new WeakMap<FlowSpec, { logp?: Graph; inverse?: Graph }>();
function graphsOf(spec: FlowSpec): { logp?: Graph; inverse?: Graph } {
  let g = graphCache.get(spec);
  if (!g) graphCache.set(spec, (g = {}));
  return g;
}
export function logProbGraphOf(spec: FlowSpec): Graph {
  const g = graphsOf(spec);
  return (g.logp ??= buildLogProbGraph(spec));
}
function inverseGraphOf(spec: FlowSpec): Graph {
  const g = graphsOf(spec);
  return (g.inverse ??= buildInverseGraph(spec));
}

/** Parameters as tf tensors (caller disposes). */
export function paramTensors(spec: FlowSpec, params: ParamMap, prefix = ''): TfEnv {
  const out: TfEnv = {};
  for (const { name, shape } of flowParamShapes(spec, prefix)) {
    const v = params[name];
    if (!v) throw new Error(`flow parameters: ${name} is missing`);
    out[name] = tf.tensor(v, shape);
  }
  return out;
}

function runBatched(
  graph: Graph,
  inputName: string,
  output: string,
  model: FlowModel,
  x: Matrix,
  batch: number,
): Float32Array {
  if (x.cols !== model.spec.dim) {
    throw new Error(`flow expects ${model.spec.dim} features per row, got ${x.cols}`);
  }
  const params = paramTensors(model.spec, model.params);
  try {
    const outCols = output === 'logp' ? 1 : model.spec.dim;
    const out = new Float32Array(x.rows * outCols);
    for (let r0 = 0; r0 < x.rows; r0 += batch) {
      const r1 = Math.min(x.rows, r0 + batch);
      const chunk = tf.tidy(() => {
        const xt = tf.tensor2d(x.data.subarray(r0 * x.cols, r1 * x.cols), [r1 - r0, x.cols]);
        return runTfGraph(graph, { ...params, [inputName]: xt })[output];
      });
      out.set(chunk.dataSync() as Float32Array, r0 * outCols);
      chunk.dispose();
    }
    return out;
  } finally {
    tf.dispose(Object.values(params));
  }
}

/** log p(x) for every row of x (score = −log p). */
export function flowLogProb(model: FlowModel, x: Matrix, batch = 4096): Float32Array {
  return runBatched(logProbGraphOf(model.spec), 'x', 'logp', model, x, batch);
}

/** x = f⁻¹(z): the exact inverse of the flow. */
export function flowInverse(model: FlowModel, z: Matrix, batch = 4096): Matrix {
  const data = runBatched(inverseGraphOf(model.spec), 'z', 'x', model, z, batch);
  return matrix(z.rows, z.cols, data);
}

/** n samples from the flow: z ~ N(0, I), x = f⁻¹(z). */
export function flowSample(model: FlowModel, n: number, seed: number): Matrix {
  const rng = new Rng(seed);
  const z = matrix(n, model.spec.dim);
  for (let i = 0; i < z.data.length; i++) z.data[i] = rng.normal();
  return flowInverse(model, z);
}
