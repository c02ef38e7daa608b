/**
 * The flow, written once as a graph (METHOD §2). Per block k, on h = [x1, x2]:
 *
 *   [a, t] = MLP_k(x1)                  Linear(d1→H) → ReLU → Linear(H→H) → ReLU → Linear(H→2·d2)
 *   s      = α·tanh(a/α)                soft clamp of the log-scale
 *   y      = [x1, x2 ⊙ exp(s) + t]      log|det| += Σ s
 *   y      ← y ⊙ g_k + b_k, g_k = softplus(γ_k) > 0       log|det| += Σ log g_k
 *   h      ← y[:, perm_k]               a permutation: no log-det
 *
 *   log p(x) = −½‖z‖² − (D/2)·ln 2π + Σ log|det|,   z = h after the last block.
 *
 * Parameter names: `${prefix}b${k}.w1 .b1 .w2 .b2 .w3 .b3 .gamma .beta`.
 */
import { GraphBuilder, type Graph } from './graph';
import { checkFlowSpec, halves, invertPermutation, type FlowSpec } from './spec';

export const LOG_2PI = Math.log(2 * Math.PI);

export interface FlowParamShape {
  name: string;
  shape: number[];
}

/** Every parameter of the flow with its shape, in a fixed order. */
export function flowParamShapes(spec: FlowSpec, prefix = ''): FlowParamShape[] {
  const { d1, d2 } = halves(spec.dim);
  const H = spec.hidden;
  const out: FlowParamShape[] = [];
  for (let k = 0; k < spec.blocks; k++) {
    const p = `${prefix}b${k}.`;
    out.push(
      { name: p + 'w1', shape: [d1, H] },
      { name: p + 'b1', shape: [H] },
      { name: p + 'w2', shape: [H, H] },
      { name: p + 'b2', shape: [H] },
      { name: p + 'w3', shape: [H, 2 * d2] },
      { name: p + 'b3', shape: [2 * d2] },
      { name: p + 'gamma', shape: [spec.dim] },
      { name: p + 'beta', shape: [spec.dim] },
    );
  }
  return out;
}

function declareParams(g: GraphBuilder, spec: FlowSpec, prefix: string): void {
  for (const p of flowParamShapes(spec, prefix)) g.param(p.name, p.shape);
}

/** Declares the flow's parameters unless an earlier appendLogProb on `g` did (same shapes). */
function declareParamsOnce(g: GraphBuilder, spec: FlowSpec, prefix: string): void {
  const shapes = flowParamShapes(spec, prefix);
  const known = new Map(g.params.map((p) => [p.name, p.shape]));
  const present = shapes.filter((p) => known.has(p.name));
  if (present.length === 0) return declareParams(g, spec, prefix);
  const same = (a: (number | 'N')[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (present.length !== shapes.length || !present.every((p) => same(known.get(p.name)!, p.shape)))
    throw new Error(`flow graph: the parameters ${prefix}b*.* are declared with another flow's shapes`);
}

/** Subnet of block k on x1 → (log-scale s after the soft clamp, shift t). */
function coupling(g: GraphBuilder, spec: FlowSpec, p: string, x1: string): { s: string; t: string } {
  const { d2 } = halves(spec.dim);
  const h1 = g.relu(g.dense(x1, p + 'w1', p + 'b1'));
  const h2 = g.relu(g.dense(h1, p + 'w2', p + 'b2'));
  const st = g.dense(h2, p + 'w3', p + 'b3');
  const a = g.sliceCols(st, 0, d2);
  const t = g.sliceCols(st, d2, 2 * d2);
  const s = g.scale(g.tanh(g.scale(a, 1 / spec.clamp)), spec.clamp);
  return { s, t };
}

/**
 * Appends log p(x) of the flow to `g` for the [N, D] tensor `x`; returns the [N] log-prob name.
 * Intermediate names `${names}b${k}.pre_affine` (block output before the global affine) and
 * `${names}z` (the latent) are kept readable: data-dependent init and tests read them.
 *
 * May be called more than once on one graph with the same `prefix` (the same flow on several
 * batches, e.g. the sparse CF objective): the parameters are declared by the first call, and
 * each later call needs its own `names` prefix for the named tensors (default: `prefix`).
 */
export function appendLogProb(
  g: GraphBuilder,
  spec: FlowSpec,
  x: string,
  prefix = '',
  names = prefix,
): string {
  checkFlowSpec(spec);
  declareParamsOnce(g, spec, prefix);
  const { d1 } = halves(spec.dim);
  let h = x;
  let logdet: string | null = null;
  for (let k = 0; k < spec.blocks; k++) {
    const p = `${prefix}b${k}.`;
    const x1 = g.sliceCols(h, 0, d1);
    const x2 = g.sliceCols(h, d1, spec.dim);
    const { s, t } = coupling(g, spec, p, x1);
    const y2 = g.add(g.mul(x2, g.exp(s)), t);
    const y = g.node('ConcatCols', [x1, y2], undefined, `${names}b${k}.pre_affine`);
    const scale = g.softplus(p + 'gamma');
    const ya = g.add(g.mul(y, scale), p + 'beta');
    h = g.permute(ya, spec.permutations[k], k === spec.blocks - 1 ? `${names}z` : undefined);
    const ldBlock = g.add(g.rowSum(s), g.sumAll(g.log(scale)));
    logdet = logdet === null ? ldBlock : g.add(logdet, ldBlock);
  }
  const base = g.addConst(g.scale(g.rowSum(g.square(h)), -0.5), (-spec.dim / 2) * LOG_2PI);
  return g.add(base, logdet!, `${names}logp`);
}

/** Graph: input `x` [N, D] → output `logp` [N]. The scoring pass (score = −logp). */
export function buildLogProbGraph(spec: FlowSpec): Graph {
  const g = new GraphBuilder();
  const x = g.input('x', ['N', spec.dim]);
  const lp = appendLogProb(g, spec, x);
  return g.build([lp]);
}

/**
 * Graph of the exact inverse: input `z` [N, D] → output `x` [N, D]. Block by block in reverse:
 * y = h[:, perm⁻¹];  y ← (y − b)/g;  x1 = y1;  x2 = (y2 − t(x1)) ⊙ exp(−s(x1)).
 */
export function buildInverseGraph(spec: FlowSpec): Graph {
  checkFlowSpec(spec);
  const g = new GraphBuilder();
  let h = g.input('z', ['N', spec.dim]);
  declareParams(g, spec, '');
  const { d1 } = halves(spec.dim);
  for (let k = spec.blocks - 1; k >= 0; k--) {
    const p = `b${k}.`;
    const ya = g.permute(h, invertPermutation(spec.permutations[k]));
    const invScale = g.exp(g.neg(g.log(g.softplus(p + 'gamma'))));
    const y = g.mul(g.sub(ya, p + 'beta'), invScale);
    const x1 = g.sliceCols(y, 0, d1);
    const y2 = g.sliceCols(y, d1, spec.dim);
    const { s, t } = coupling(g, spec, p, x1);
    const x2 = g.mul(g.sub(y2, t), g.exp(g.neg(s)));
    h = g.concatCols(x1, x2);
  }
  const out = g.scale(h, 1, 'x');
  return g.build([out]);
}
