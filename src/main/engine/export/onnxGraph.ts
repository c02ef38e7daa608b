/**
 * The ONNX writer of the graph IR (flow/graph.ts): one more reader of the same graph the
 * TensorFlow.js and float64 executors run, so the exported flow cannot drift from the trained
 * one. Each IR op becomes one or two ONNX nodes (default domain, opsets 13–20):
 *
 *   Dense      Gemm(x, W, b)                         y = x·W + b
 *   Relu/Tanh/Exp/Log/Softplus/Neg                  the ONNX op of the same name
 *   Square     Mul(x, x)
 *   Scale      Mul(x, α)                             α a float scalar initializer
 *   AddConst   Add(x, c)                             c a float scalar initializer
 *   Add/Sub/Mul                                     same op (NumPy broadcasting ⊇ the IR's)
 *   MaxScalar  Max(x, s)
 *   SliceCols  Slice(x, [start], [end], axes [1])    SliceRows: axes [0]
 *   ConcatCols Concat(axis 1)                        ConcatRows: Concat(axis 0)
 *   Permute    Gather(x, perm, axis 1)               y[:, i] = x[:, perm[i]]
 *   RowSum     ReduceSum(x, axes [1], keepdims 0)    [N, C] → [N]
 *   SumAll     ReduceSum(x, keepdims 0)              no axes: every axis → scalar
 *   Mean       ReduceMean(x, keepdims 0)             no axes: every axis → scalar
 *
 * Only ops with the same signature over opsets 13–20 are used for the IR (ReduceSum takes its
 * axes as an input since 13; ReduceMean without axes means "all" before and after 18).
 * `reduceL2Rows` (used by the preprocessing, not the IR) switches at 18 where ReduceL2's axes
 * became an input.
 */
import onnxProto from 'onnx-proto';
import { validateGraph, type Graph, type GraphNode, type OpName } from '../flow/graph';

const { onnx } = onnxProto;

export type NodeProto = InstanceType<typeof onnx.NodeProto>;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;
export type ValueInfoProto = InstanceType<typeof onnx.ValueInfoProto>;

export const FLOAT = onnx.TensorProto.DataType.FLOAT;
export const INT64 = onnx.TensorProto.DataType.INT64;
const AttrType = onnx.AttributeProto.AttributeType;

/** Lowest and highest default-domain opset the emitted nodes are valid in. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 20;

/** A float32 initializer (raw little-endian bytes: compact, and fast to encode for large weights). */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): TensorProto {
  const a = Float32Array.from(values);
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  });
}

/** An int64 initializer (raw bytes: no Long conversion). */
export function int64Tensor(name: string, dims: number[], values: readonly number[]): TensorProto {
  const a = BigInt64Array.from(values.map((v) => BigInt(v)));
  return onnx.TensorProto.create({
    name,
    dims,
    dataType: INT64,
    rawData: new Uint8Array(a.buffer, a.byteOffset, a.byteLength),
  });
}

/** A float32 graph input/output declaration; string dims are symbolic (e.g. 'N'). */
export function floatValueInfo(name: string, dims: (number | string)[]): ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/**
 * Collects ONNX nodes and initializers under a name prefix: every generated tensor and node name
 * starts with `prefix`, so several emitters (two flows, an extractor) can share one model.
 */
export class OnnxEmitter {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  private counter = 0;

  constructor(
    readonly prefix: string,
    readonly opset: number,
  ) {
    if (!(opset >= MIN_OPSET && opset <= MAX_OPSET))
      throw new Error(`onnx emitter: opset ${opset} is outside ${MIN_OPSET}–${MAX_OPSET}`);
  }

  /** A fresh tensor name. */
  fresh(hint: string): string {
    return `${this.prefix}${hint}_${this.counter++}`;
  }

  node(
    opType: string,
    inputs: string[],
    output: string,
    attribute: onnxProto.onnx.IAttributeProto[] = [],
  ): string {
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: [output],
        name: `${output}/${opType}`,
        attribute,
      }),
    );
    return output;
  }

  floatConst(hint: string, value: number): string {
    const name = this.fresh(hint);
    this.initializers.push(floatTensor(name, [], [value]));
    return name;
  }

  floatVector(hint: string, values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.push(floatTensor(name, [values.length], values));
    return name;
  }

  int64Vector(hint: string, values: readonly number[]): string {
    const name = this.fresh(hint);
    this.initializers.push(int64Tensor(name, [values.length], values));
    return name;
  }

  /** ‖x_r‖₂ per row of [N, C], kept as [N, 1] (ReduceL2: axes attribute < 18, input ≥ 18). */
  reduceL2Rows(x: string, output: string): string {
    if (this.opset >= 18)
      return this.node('ReduceL2', [x, this.int64Vector('axes', [1])], output, [
        { name: 'keepdims', type: AttrType.INT, i: 1 },
      ]);
    return this.node('ReduceL2', [x], output, [
      { name: 'axes', type: AttrType.INTS, ints: [1] },
      { name: 'keepdims', type: AttrType.INT, i: 1 },
    ]);
  }
}

type OpEmitter = (e: OnnxEmitter, ins: string[], out: string, node: GraphNode) => void;

const unaryOp =
  (opType: string): OpEmitter =>
  (e, [x], out) =>
    void e.node(opType, [x], out);

const binaryOp =
  (opType: string): OpEmitter =>
  (e, [a, b], out) =>
    void e.node(opType, [a, b], out);

const slice =
  (axis: number): OpEmitter =>
  (e, [x], out, n) =>
    void e.node(
      'Slice',
      [
        x,
        e.int64Vector('starts', [n.attrs!.start!]),
        e.int64Vector('ends', [n.attrs!.end!]),
        e.int64Vector('axes', [axis]),
      ],
      out,
    );

const concat =
  (axis: number): OpEmitter =>
  (e, [a, b], out) =>
    void e.node('Concat', [a, b], out, [{ name: 'axis', type: AttrType.INT, i: axis }]);

/**
 * One ONNX translation per IR op. A Record over OpName: adding an op to the IR without teaching
 * the writer is a type error.
 */
export const OP_EMITTERS: Record<OpName, OpEmitter> = {
  /** y = x·W + b: Gemm with C = b broadcast over the rows */
  Dense: (e, [x, w, b], out) => void e.node('Gemm', [x, w, b], out),
  Relu: unaryOp('Relu'),
  Tanh: unaryOp('Tanh'),
  Exp: unaryOp('Exp'),
  Log: unaryOp('Log'),
  Softplus: unaryOp('Softplus'),
  Neg: unaryOp('Neg'),
  /** x² as x·x (Pow would need an exponent tensor and is slower) */
  Square: (e, [x], out) => void e.node('Mul', [x, x], out),
  Scale: (e, [x], out, n) => void e.node('Mul', [x, e.floatConst('alpha', n.attrs!.alpha!)], out),
  AddConst: (e, [x], out, n) => void e.node('Add', [x, e.floatConst('c', n.attrs!.c!)], out),
  Add: binaryOp('Add'),
  Sub: binaryOp('Sub'),
  Mul: binaryOp('Mul'),
  MaxScalar: binaryOp('Max'),
  SliceCols: slice(1),
  SliceRows: slice(0),
  ConcatCols: concat(1),
  ConcatRows: concat(0),
  Permute: (e, [x], out, n) =>
    void e.node('Gather', [x, e.int64Vector('perm', n.attrs!.perm!)], out, [
      { name: 'axis', type: AttrType.INT, i: 1 },
    ]),
  RowSum: (e, [x], out) =>
    void e.node('ReduceSum', [x, e.int64Vector('axes', [1])], out, [
      { name: 'keepdims', type: AttrType.INT, i: 0 },
    ]),
  SumAll: (e, [x], out) =>
    void e.node('ReduceSum', [x], out, [{ name: 'keepdims', type: AttrType.INT, i: 0 }]),
  Mean: (e, [x], out) =>
    void e.node('ReduceMean', [x], out, [{ name: 'keepdims', type: AttrType.INT, i: 0 }]),
};

export interface EmitIrOptions {
  /** ONNX tensor name of each IR input and parameter (e.g. x → the preprocessed features) */
  bind: Record<string, string>;
  /** ONNX names for IR outputs (default: prefix + IR name) */
  outputNames?: Record<string, string>;
}

/**
 * Appends `graph` to the emitter: one translation per node, in order. Returns the ONNX name of
 * every IR output. Parameters are not written here: the caller binds them to initializers.
 */
export function emitIrGraph(e: OnnxEmitter, graph: Graph, opts: EmitIrOptions): Record<string, string> {
  validateGraph(graph);
  const names = new Map<string, string>();
  for (const d of [...graph.inputs, ...graph.params]) {
    const bound = opts.bind[d.name];
    if (!bound) throw new Error(`onnx emitter: IR tensor ${d.name} is not bound to an ONNX tensor`);
    names.set(d.name, bound);
  }
  const wanted = opts.outputNames ?? {};
  for (const n of graph.nodes) {
    const out = wanted[n.output] ?? `${e.prefix}${n.output}`;
    OP_EMITTERS[n.op](
      e,
      n.inputs.map((i) => names.get(i)!),
      out,
      n,
    );
    names.set(n.output, out);
  }
  const result: Record<string, string> = {};
  for (const o of graph.outputs) result[o] = names.get(o)!;
  return result;
}
