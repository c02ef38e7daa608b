/**
 * A tiny graph description (intermediate representation) of tensor computations.
 *
 * The flow and its training objectives are written once, as a graph of these nodes, and
 * then run by several executors: TensorFlow.js (training and scoring), a float64 reference
 * executor (tests: Jacobians, parity) and the ONNX writer (flow/onnxGraph.ts: the scorer
 * and, with the backward pass of flow/autodiff, the training step of train/ort). Every op
 * below must be supported by every executor; keep the set small.
 *
 * Shapes: a "matrix" is [N, C] (N = batch rows), a "vector" is [C] (broadcast over rows),
 * a "column" is [N] (one value per row), a "scalar" is []. Elementwise binary ops
 * broadcast vector→matrix, scalar→anything and column→column only. CompressRows keeps the rows
 * a mask selects, so its row count is known only at run time (−1 in autodiff/shapes.ts); every
 * op downstream of it works on any row count, zero included.
 */

export type OpName =
  | 'Dense' // y = x·W + b            inputs [x, W, b]
  | 'Relu' // y = max(x, 0)
  | 'Tanh'
  | 'Exp'
  | 'Log'
  | 'Softplus' // y = ln(1 + e^x)
  | 'Neg'
  | 'Square'
  | 'Scale' // y = alpha·x           attrs.alpha
  | 'AddConst' // y = x + c             attrs.c
  | 'Add'
  | 'Sub'
  | 'Mul'
  | 'MaxScalar' // y = max(x, s), s a scalar input    inputs [x, s]
  | 'SliceCols' // y = x[:, start:end]   attrs.start, attrs.end
  | 'SliceRows' // y = x[start:end]      attrs.start, attrs.end (matrix or column)
  | 'ConcatCols' // y = [a, b] along columns
  | 'ConcatRows' // y = [a; b] along rows
  | 'Permute' // y[:, i] = x[:, perm[i]]              attrs.perm
  | 'RowSum' // [N, C] → [N]
  | 'SumAll' // anything → scalar
  | 'Mean' // anything → scalar (mean of all elements)
  | 'CompressRows' // y = the rows r of x with m[r] ≠ 0, in order   inputs [x, m], m a column; no adjoint for x
  // --- ops the backward pass (flow/autodiff) emits; any executor runs them like the rest ---
  | 'Const' // y = c, a scalar            no inputs, attrs.c
  | 'MatMulNT' // y = a·bᵀ               [N, K]·[M, K]ᵀ → [N, M]
  | 'MatMulTN' // y = aᵀ·b               [K, N]ᵀ·[K, M] → [N, M]
  | 'ColSum' // [N, C] → [C]              attrs.size = N when known (ONNX: a ones·x product)
  | 'PassIfPositive' // y = g where r > 0, else 0; r ≥ 0 (a Relu output)   inputs [g, r]   (Relu')
  | 'GeMask' // y = 1 if x ≥ s else 0, s a scalar     inputs [x, s]   (MaxScalar')
  | 'Sigmoid' // y = 1/(1 + e^−x)        (Softplus')
  | 'Div' // y = a / b (broadcast like Mul)
  | 'PadCols' // [N, end−start] → [N, size], x at columns start..end, zeros elsewhere   attrs.start, .end, .size
  | 'PadRows' // [end−start, …] → [size, …], x at rows start..end, zeros elsewhere     attrs.start, .end, .size, .rank
  | 'BroadcastCols' // column [N] → [N, size], y[r, j] = x[r]                          attrs.size
  | 'Fill' // scalar → attrs.shape, every element = x
  | 'FillLike'; // y = x (a scalar) in the shape of ref, known at run time   inputs [x, ref]

export interface GraphNode {
  op: OpName;
  inputs: string[];
  output: string;
  attrs?: {
    alpha?: number;
    c?: number;
    start?: number;
    end?: number;
    perm?: number[];
    /** extent of the output along the padded/broadcast axis (PadCols, PadRows, BroadcastCols) */
    size?: number;
    /** rank of the input (PadRows: 1 for a column, 2 for a matrix) */
    rank?: number;
    /** output shape (Fill) */
    shape?: number[];
  };
}

export interface TensorDecl {
  name: string;
  /** 'N' marks the batch dimension. */
  shape: (number | 'N')[];
}

export interface Graph {
  /** data fed at run time (e.g. the feature batch, ε) */
  inputs: TensorDecl[];
  /** trainable parameters (shapes fixed) */
  params: TensorDecl[];
  nodes: GraphNode[];
  outputs: string[];
}

/** Builds a graph with fresh names; each method appends one node and returns its output name. */
export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly inputs: TensorDecl[] = [];
  readonly params: TensorDecl[] = [];
  private counter = 0;

  input(name: string, shape: (number | 'N')[]): string {
    this.inputs.push({ name, shape });
    return name;
  }

  param(name: string, shape: number[]): string {
    if (this.params.some((p) => p.name === name)) throw new Error(`graph: parameter ${name} declared twice`);
    this.params.push({ name, shape });
    return name;
  }

  /** Appends a node; `name` gives the output a readable name (must be unique). */
  node(op: OpName, inputs: string[], attrs?: GraphNode['attrs'], name?: string): string {
    const output = name ?? `t${this.counter++}_${op}`;
    this.nodes.push({ op, inputs, output, attrs });
    return output;
  }

  dense(x: string, w: string, b: string, name?: string): string {
    return this.node('Dense', [x, w, b], undefined, name);
  }
  relu(x: string): string {
    return this.node('Relu', [x]);
  }
  tanh(x: string): string {
    return this.node('Tanh', [x]);
  }
  exp(x: string): string {
    return this.node('Exp', [x]);
  }
  log(x: string): string {
    return this.node('Log', [x]);
  }
  softplus(x: string): string {
    return this.node('Softplus', [x]);
  }
  neg(x: string, name?: string): string {
    return this.node('Neg', [x], undefined, name);
  }
  square(x: string): string {
    return this.node('Square', [x]);
  }
  scale(x: string, alpha: number, name?: string): string {
    return this.node('Scale', [x], { alpha }, name);
  }
  addConst(x: string, c: number, name?: string): string {
    return this.node('AddConst', [x], { c }, name);
  }
  add(a: string, b: string, name?: string): string {
    return this.node('Add', [a, b], undefined, name);
  }
  sub(a: string, b: string, name?: string): string {
    return this.node('Sub', [a, b], undefined, name);
  }
  mul(a: string, b: string, name?: string): string {
    return this.node('Mul', [a, b], undefined, name);
  }
  maxScalar(x: string, s: string): string {
    return this.node('MaxScalar', [x, s]);
  }
  sliceCols(x: string, start: number, end: number): string {
    return this.node('SliceCols', [x], { start, end });
  }
  sliceRows(x: string, start: number, end: number, name?: string): string {
    return this.node('SliceRows', [x], { start, end }, name);
  }
  concatCols(a: string, b: string): string {
    return this.node('ConcatCols', [a, b]);
  }
  concatRows(a: string, b: string, name?: string): string {
    return this.node('ConcatRows', [a, b], undefined, name);
  }
  permute(x: string, perm: number[], name?: string): string {
    return this.node('Permute', [x], { perm }, name);
  }
  rowSum(x: string, name?: string): string {
    return this.node('RowSum', [x], undefined, name);
  }
  sumAll(x: string, name?: string): string {
    return this.node('SumAll', [x], undefined, name);
  }
  mean(x: string, name?: string): string {
    return this.node('Mean', [x], undefined, name);
  }
  /** 1 where x ≥ s (a scalar), else 0 */
  geMask(x: string, s: string, name?: string): string {
    return this.node('GeMask', [x, s], undefined, name);
  }
  /** the rows of x (a matrix or column) where the column `mask` is non-zero */
  compressRows(x: string, mask: string, name?: string): string {
    return this.node('CompressRows', [x, mask], undefined, name);
  }

  build(outputs: string[]): Graph {
    return { inputs: this.inputs, params: this.params, nodes: this.nodes, outputs };
  }
}

/** Checks that every node's inputs are defined before use and outputs are unique. */
export function validateGraph(g: Graph): void {
  const known = new Set<string>([...g.inputs.map((i) => i.name), ...g.params.map((p) => p.name)]);
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!known.has(i)) throw new Error(`graph: node ${n.output} (${n.op}) uses undefined tensor ${i}`);
    }
    if (known.has(n.output)) throw new Error(`graph: tensor ${n.output} defined twice`);
    known.add(n.output);
  }
  for (const o of g.outputs) if (!known.has(o)) throw new Error(`graph: output ${o} is not computed`);
}

/**
 * Runs `graph` node by node with an executor's `run(node, inputs)` over its own tensor type;
 * returns every tensor computed (feeds included). Shared by all interpreting executors.
 */
export function interpretGraph<T>(
  graph: Graph,
  feeds: Record<string, T>,
  run: (node: GraphNode, inputs: T[]) => T,
  executor: string,
): Record<string, T> {
  const env: Record<string, T> = { ...feeds };
  for (const d of [...graph.inputs, ...graph.params]) {
    if (!env[d.name]) throw new Error(`${executor}: missing feed ${d.name}`);
  }
  for (const node of graph.nodes)
    env[node.output] = run(
      node,
      node.inputs.map((i) => env[i]),
    );
  return env;
}
