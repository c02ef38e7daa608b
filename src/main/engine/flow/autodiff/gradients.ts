/**
 * Reverse-mode differentiation of the graph IR into more IR: `appendGradients` returns the
 * forward graph extended with backward nodes computing ∂loss/∂t for each requested tensor t.
 * Every executor (float64 reference, TensorFlow.js, ONNX) then runs the backward pass like the
 * forward one, so the training step can be exported as one ONNX graph.
 *
 *   1. activity: a tensor is active if it depends on a tensor we differentiate with respect to
 *      through a differentiable input (GeMask's inputs and CompressRows' mask are not: a step
 *      function has a zero derivative, so what is computed from them is constant data);
 *   2. seed ∂loss/∂loss = 1 (a Const node);
 *   3. nodes in reverse order: each node whose output has an adjoint applies its op's rule
 *      (rules/*.ts) to active inputs; adjoints of a tensor used several times are summed (Add),
 *      except two zero-padded halves of one tensor — the adjoint of x after x[:, :k] and
 *      x[:, k:] — which are joined (ConcatCols/ConcatRows) rather than padded and added;
 *   4. backward nodes nothing reads (the pads so replaced) are dropped.
 * The backward nodes are named `grad/<n>_<op>`; forward tensors they use are read, not recomputed.
 */
import type { Graph, GraphNode, OpName } from '../graph';
import type { VjpContext, VjpRule } from './context';
import { ELEMENTWISE_RULES } from './elementwiseRules';
import { LAYOUT_RULES } from './layoutRules';
import { LINEAR_RULES } from './linearRules';
import { REDUCTION_RULES } from './reductionRules';
import { inferShapes, type Shapes } from './shapes';

export const VJP_RULES: Partial<Record<OpName, VjpRule>> = {
  ...ELEMENTWISE_RULES,
  ...LINEAR_RULES,
  ...LAYOUT_RULES,
  ...REDUCTION_RULES,
};

/**
 * Inputs (by position) through which an op is differentiable, for the ops that have inputs it is
 * not: a mask is a step function of its inputs (zero derivative almost everywhere), so the
 * rows CompressRows keeps are data, not a function of the parameters to differentiate. Neither op
 * has a rule: GeMask's output is never active, and CompressRows of an active x (its adjoint would
 * be a scatter) is refused.
 */
const DIFFERENTIABLE_INPUTS: Partial<Record<OpName, number[]>> = {
  GeMask: [],
  CompressRows: [0],
  // the reference tensor gives only the shape (FillLike is emitted by the backward pass)
  FillLike: [0],
};

export interface GradientGraph {
  /** the forward graph plus the backward nodes; outputs = forward outputs + gradients */
  graph: Graph;
  /** IR name of ∂loss/∂t for each requested t (a zero-filled tensor if loss does not depend on t) */
  grads: Record<string, string>;
  /** shapes of every forward and backward tensor */
  shapes: Shapes;
}

/**
 * Appends the gradient of the scalar `loss` with respect to `wrt` (inputs or parameters of
 * `graph`). `inputShapes` gives concrete shapes for inputs declared with a batch dimension 'N'.
 */
export function appendGradients(
  graph: Graph,
  loss: string,
  wrt: string[],
  inputShapes: Shapes = {},
): GradientGraph {
  const shapes = inferShapes(graph, inputShapes);
  if (!(loss in shapes)) throw new Error(`autodiff: loss ${loss} is not a tensor of the graph`);
  if (shapes[loss].length !== 0)
    throw new Error(`autodiff: loss ${loss} must be a scalar, not [${shapes[loss]}]`);
  for (const w of wrt) if (!(w in shapes)) throw new Error(`autodiff: ${w} is not a tensor of the graph`);

  const active = new Set(wrt);
  for (const n of graph.nodes) {
    const through = DIFFERENTIABLE_INPUTS[n.op];
    if (n.inputs.some((i, k) => active.has(i) && (!through || through.includes(k)))) active.add(n.output);
  }

  const nodes: GraphNode[] = [...graph.nodes];
  const backward = new Map<string, GraphNode>();
  let counter = 0;
  const emit = (op: OpName, inputs: string[], attrs?: GraphNode['attrs']): string => {
    const output = `grad/${counter++}_${op}`;
    const node: GraphNode = { op, inputs, output, ...(attrs ? { attrs } : {}) };
    nodes.push(node);
    backward.set(output, node);
    const ins = inputs.map((i) => shapes[i]);
    shapes[output] = inferShapes(
      { inputs: inputs.map((name, k) => ({ name, shape: ins[k] })), params: [], nodes: [node], outputs: [] },
      {},
    )[output];
    return output;
  };
  const ctx: VjpContext = { emit, shape: (n) => shapes[n] };

  /** [a padded at columns (rows) 0..k) + [b padded at k..size) = [a, b]: one copy, not 3 ops */
  const joinHalves = (p: string, q: string): string | null => {
    const [np, nq] = [backward.get(p), backward.get(q)];
    if (!np || !nq || np.op !== nq.op || (np.op !== 'PadCols' && np.op !== 'PadRows')) return null;
    const [a, b] = np.attrs!.start! <= nq.attrs!.start! ? [np, nq] : [nq, np];
    const { size } = a.attrs!;
    if (
      b.attrs!.size !== size ||
      a.attrs!.start !== 0 ||
      a.attrs!.end !== b.attrs!.start ||
      b.attrs!.end !== size
    )
      return null;
    if (np.op === 'PadRows' && a.attrs!.rank !== b.attrs!.rank) return null;
    return emit(np.op === 'PadCols' ? 'ConcatCols' : 'ConcatRows', [a.inputs[0], b.inputs[0]]);
  };
  const adjoint = new Map<string, string>();
  const accumulate = (t: string, g: string): void => {
    const prev = adjoint.get(t);
    adjoint.set(t, prev === undefined ? g : (joinHalves(prev, g) ?? emit('Add', [prev, g])));
  };
  adjoint.set(loss, emit('Const', [], { c: 1 }));

  for (let k = graph.nodes.length - 1; k >= 0; k--) {
    const node = graph.nodes[k];
    const dy = adjoint.get(node.output);
    if (dy === undefined || !active.has(node.output)) continue;
    const rule = VJP_RULES[node.op];
    if (!rule)
      throw new Error(
        node.op === 'CompressRows'
          ? `autodiff: CompressRows ${node.output} selects rows of a tensor being differentiated; it may select rows of data only`
          : `autodiff: no reverse-mode rule for op ${node.op} (node ${node.output})`,
      );
    const through = DIFFERENTIABLE_INPUTS[node.op];
    const needs = node.inputs.map((i, k) => active.has(i) && (!through || through.includes(k)));
    const ins = rule(ctx, node, dy, needs);
    node.inputs.forEach((input, i) => {
      const g = ins[i];
      if (needs[i] && g !== null) accumulate(input, g);
    });
  }

  const grads: Record<string, string> = {};
  for (const w of wrt) {
    const g = adjoint.get(w);
    // loss independent of w: a zero tensor of w's shape
    grads[w] = g ?? emit('Fill', [emit('Const', [], { c: 0 })], { shape: shapes[w] });
  }
  // drop backward nodes nothing reads (pads replaced by a join); forward nodes stay as they are
  const outputs = [...graph.outputs, ...wrt.map((w) => grads[w])];
  const read = new Set(outputs);
  const kept: GraphNode[] = [];
  for (let k = nodes.length - 1; k >= 0; k--) {
    const n = nodes[k];
    if (k >= graph.nodes.length && !read.has(n.output)) continue;
    for (const i of n.inputs) read.add(i);
    kept.push(n);
  }
  return {
    graph: {
      inputs: graph.inputs,
      params: graph.params,
      nodes: kept.reverse(),
      outputs,
    },
    grads,
    shapes,
  };
}
