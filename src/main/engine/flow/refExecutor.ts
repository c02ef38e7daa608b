/**
 * Float64 reference executor of a `Graph` in plain JavaScript. Slow and simple on purpose:
 * tests use it for numerical Jacobians and as the parity reference of the fast executors.
 */
import { interpretGraph, type Graph, type GraphNode } from './graph';

export interface RefTensor {
  shape: number[]; // [] scalar, [C] vector/column, [N, C] matrix
  data: Float64Array;
}

export function refTensor(shape: number[], data: ArrayLike<number>): RefTensor {
  return { shape, data: Float64Array.from(data) };
}

const unary: Partial<Record<GraphNode['op'], (v: number) => number>> = {
  Relu: (v) => (v > 0 ? v : 0),
  Tanh: Math.tanh,
  Exp: Math.exp,
  Log: Math.log,
  Softplus: (v) => (v > 30 ? v : Math.log1p(Math.exp(v))),
  Neg: (v) => -v,
  Square: (v) => v * v,
  Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
};

function broadcastBinary(a: RefTensor, b: RefTensor, f: (x: number, y: number) => number): RefTensor {
  // the operand of higher rank (then: more elements) gives the shape; by rank first, so that an
  // empty column (CompressRows kept no row) with a scalar stays an empty column
  const rankFirst =
    a.shape.length !== b.shape.length ? a.shape.length > b.shape.length : a.data.length >= b.data.length;
  const big = rankFirst ? a : b;
  const out = new Float64Array(big.data.length);
  if (out.length === 0) return { shape: big.shape.slice(), data: out };
  const la = a.data.length;
  const lb = b.data.length;
  // supported: equal sizes, scalar, or a [C] vector over an [N, C] matrix (repeats every C)
  if (!(la === lb || la === 1 || lb === 1 || big.data.length % Math.min(la, lb) === 0)) {
    throw new Error(`ref executor: cannot broadcast ${a.shape} with ${b.shape}`);
  }
  for (let i = 0; i < out.length; i++) out[i] = f(a.data[i % la], b.data[i % lb]);
  return { shape: big.shape.slice(), data: out };
}

function run(node: GraphNode, ins: RefTensor[]): RefTensor {
  const u = unary[node.op];
  if (u) return { shape: ins[0].shape.slice(), data: ins[0].data.map(u) };
  const at = node.attrs ?? {};
  switch (node.op) {
    case 'Dense': {
      const [x, w, b] = ins;
      const [n, k] = x.shape;
      const m = w.shape[1];
      const out = new Float64Array(n * m);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < m; j++) {
          let s = b.data[j];
          for (let i = 0; i < k; i++) s += x.data[r * k + i] * w.data[i * m + j];
          out[r * m + j] = s;
        }
      return { shape: [n, m], data: out };
    }
    case 'Scale':
      return { shape: ins[0].shape.slice(), data: ins[0].data.map((v) => v * at.alpha!) };
    case 'AddConst':
      return { shape: ins[0].shape.slice(), data: ins[0].data.map((v) => v + at.c!) };
    case 'Add':
      return broadcastBinary(ins[0], ins[1], (x, y) => x + y);
    case 'Sub':
      return broadcastBinary(ins[0], ins[1], (x, y) => x - y);
    case 'Mul':
      return broadcastBinary(ins[0], ins[1], (x, y) => x * y);
    case 'MaxScalar':
      return { shape: ins[0].shape.slice(), data: ins[0].data.map((v) => Math.max(v, ins[1].data[0])) };
    case 'SliceCols': {
      const [n, c] = ins[0].shape;
      const w = at.end! - at.start!;
      const out = new Float64Array(n * w);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < w; j++) out[r * w + j] = ins[0].data[r * c + at.start! + j];
      return { shape: [n, w], data: out };
    }
    case 'SliceRows': {
      const cols = ins[0].shape.length === 2 ? ins[0].shape[1] : 1;
      const data = ins[0].data.slice(at.start! * cols, at.end! * cols);
      const shape = ins[0].shape.length === 2 ? [at.end! - at.start!, cols] : [at.end! - at.start!];
      return { shape, data };
    }
    case 'ConcatCols': {
      const [a, b] = ins;
      const n = a.shape[0];
      const ca = a.shape[1];
      const cb = b.shape[1];
      const out = new Float64Array(n * (ca + cb));
      for (let r = 0; r < n; r++) {
        for (let j = 0; j < ca; j++) out[r * (ca + cb) + j] = a.data[r * ca + j];
        for (let j = 0; j < cb; j++) out[r * (ca + cb) + ca + j] = b.data[r * cb + j];
      }
      return { shape: [n, ca + cb], data: out };
    }
    case 'ConcatRows': {
      const [a, b] = ins;
      const data = new Float64Array(a.data.length + b.data.length);
      data.set(a.data);
      data.set(b.data, a.data.length);
      const shape = a.shape.slice();
      shape[0] = a.shape[0] + b.shape[0];
      return { shape, data };
    }
    case 'Permute': {
      const [n, c] = ins[0].shape;
      const perm = at.perm!;
      const out = new Float64Array(n * c);
      for (let r = 0; r < n; r++) for (let i = 0; i < c; i++) out[r * c + i] = ins[0].data[r * c + perm[i]];
      return { shape: [n, c], data: out };
    }
    case 'RowSum': {
      const [n, c] = ins[0].shape;
      const out = new Float64Array(n);
      for (let r = 0; r < n; r++) {
        let s = 0;
        for (let j = 0; j < c; j++) s += ins[0].data[r * c + j];
        out[r] = s;
      }
      return { shape: [n], data: out };
    }
    case 'SumAll':
      return { shape: [], data: Float64Array.of(ins[0].data.reduce((a, b) => a + b, 0)) };
    case 'Mean':
      return {
        shape: [],
        data: Float64Array.of(ins[0].data.reduce((a, b) => a + b, 0) / ins[0].data.length),
      };
    case 'Const':
      return { shape: [], data: Float64Array.of(at.c!) };
    case 'MatMulNT':
    case 'MatMulTN': {
      const [a, b] = ins;
      const ta = node.op === 'MatMulTN';
      const [ar, ac] = a.shape;
      const [br, bc] = b.shape;
      const n = ta ? ac : ar;
      const k = ta ? ar : ac;
      const m = ta ? bc : br;
      const out = new Float64Array(n * m);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let i = 0; i < k; i++)
            s += ta ? a.data[i * ac + r] * b.data[i * bc + j] : a.data[r * ac + i] * b.data[j * bc + i];
          out[r * m + j] = s;
        }
      return { shape: [n, m], data: out };
    }
    case 'ColSum': {
      const [n, c] = ins[0].shape;
      const out = new Float64Array(c);
      for (let r = 0; r < n; r++) for (let j = 0; j < c; j++) out[j] += ins[0].data[r * c + j];
      return { shape: [c], data: out };
    }
    case 'PassIfPositive':
      return { shape: ins[0].shape.slice(), data: ins[0].data.map((g, i) => (ins[1].data[i] > 0 ? g : 0)) };
    case 'GeMask':
      return { shape: ins[0].shape.slice(), data: ins[0].data.map((v) => (v >= ins[1].data[0] ? 1 : 0)) };
    case 'Div':
      return broadcastBinary(ins[0], ins[1], (x, y) => x / y);
    case 'PadCols': {
      const [n, w] = ins[0].shape;
      const size = at.size!;
      const out = new Float64Array(n * size);
      for (let r = 0; r < n; r++)
        for (let j = 0; j < w; j++) out[r * size + at.start! + j] = ins[0].data[r * w + j];
      return { shape: [n, size], data: out };
    }
    case 'PadRows': {
      const cols = ins[0].shape.length === 2 ? ins[0].shape[1] : 1;
      const out = new Float64Array(at.size! * cols);
      out.set(ins[0].data, at.start! * cols);
      return { shape: ins[0].shape.length === 2 ? [at.size!, cols] : [at.size!], data: out };
    }
    case 'BroadcastCols': {
      const n = ins[0].shape[0];
      const size = at.size!;
      const out = new Float64Array(n * size);
      for (let r = 0; r < n; r++) out.fill(ins[0].data[r], r * size, (r + 1) * size);
      return { shape: [n, size], data: out };
    }
    case 'CompressRows': {
      const [x, m] = ins;
      const cols = x.shape.length === 2 ? x.shape[1] : 1;
      const keep: number[] = [];
      for (let r = 0; r < m.data.length; r++) if (m.data[r] !== 0) keep.push(r);
      const out = new Float64Array(keep.length * cols);
      keep.forEach((r, i) => out.set(x.data.subarray(r * cols, (r + 1) * cols), i * cols));
      return { shape: x.shape.length === 2 ? [keep.length, cols] : [keep.length], data: out };
    }
    case 'FillLike':
      return { shape: ins[1].shape.slice(), data: new Float64Array(ins[1].data.length).fill(ins[0].data[0]) };
    case 'Fill': {
      const shape = at.shape!;
      return {
        shape: shape.slice(),
        data: new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(ins[0].data[0]),
      };
    }
    default:
      throw new Error(`ref executor: op ${node.op} not implemented`);
  }
}

/** Runs `graph` on `feeds` (inputs and params by name); returns every tensor computed. */
export function runRefGraph(graph: Graph, feeds: Record<string, RefTensor>): Record<string, RefTensor> {
  return interpretGraph<RefTensor>(graph, feeds, run, 'ref executor');
}
