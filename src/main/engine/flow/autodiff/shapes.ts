/**
 * Static shape inference over the graph IR, for concrete input shapes (no 'N'): the backward
 * pass needs each tensor's shape to undo broadcasting, pad slices back and fill reductions.
 * One exception: the rows CompressRows keeps are counted at run time; such a row count is
 * DYNAMIC (−1) here, and flows on through the ops downstream of it.
 */
import type { Graph, GraphNode } from '../graph';

export type Shapes = Record<string, number[]>;

/** a row count known only at run time (the output of CompressRows and what follows from it) */
export const DYNAMIC = -1;

export const isDynamic = (s: number[]): boolean => s.some((d) => d === DYNAMIC);

const sameShape = (a: number[], b: number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** Shape of an elementwise binary result: the larger operand's (IR broadcasting rules). */
function broadcastShape(a: number[], b: number[], node: GraphNode): number[] {
  if (sameShape(a, b)) return a.slice();
  // the operand of higher rank is the result's shape: scalar → anything, vector [C] → [N, C]
  const [big, small] = a.length >= b.length ? [a, b] : [b, a];
  const ok = small.length === 0 || (small.length === 1 && big.length === 2 && small[0] === big[1]);
  if (!ok) throw new Error(`shapes: ${node.op} ${node.output} cannot broadcast [${a}] with [${b}]`);
  return big.slice();
}

function nodeShape(node: GraphNode, ins: number[][]): number[] {
  const at = node.attrs ?? {};
  const [a, b] = ins;
  switch (node.op) {
    case 'Dense':
      return [a[0], b[1]];
    case 'MatMulNT':
      return [a[0], b[0]];
    case 'MatMulTN':
      return [a[1], b[1]];
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return broadcastShape(a, b, node);
    case 'SliceCols':
      return [a[0], at.end! - at.start!];
    case 'SliceRows':
      // of a run-time row count too: the rows start..end must then exist (the caller's promise,
      // e.g. the inliers at the top of [x; CompressRows(y)]); its adjoint cannot be padded back
      return a.length === 2 ? [at.end! - at.start!, a[1]] : [at.end! - at.start!];
    case 'ConcatCols':
      return [a[0], a[1] + b[1]];
    case 'ConcatRows': {
      const rows = a[0] === DYNAMIC || b[0] === DYNAMIC ? DYNAMIC : a[0] + b[0];
      return a.length === 2 ? [rows, a[1]] : [rows];
    }
    case 'RowSum':
      return [a[0]];
    case 'ColSum':
      return [a[1]];
    case 'SumAll':
    case 'Mean':
    case 'Const':
      return [];
    case 'PadCols':
      return [a[0], at.size!];
    case 'PadRows':
      return a.length === 2 ? [at.size!, a[1]] : [at.size!];
    case 'BroadcastCols':
      return [a[0], at.size!];
    case 'Fill':
      return at.shape!.slice();
    case 'FillLike':
      return b.slice();
    case 'CompressRows':
      return a.length === 2 ? [DYNAMIC, a[1]] : [DYNAMIC];
    default:
      // elementwise unary ops and MaxScalar/GeMask (scalar second input): shape of x
      return a.slice();
  }
}

/** Shapes of every tensor of `graph` given concrete shapes of its inputs and parameters. */
export function inferShapes(graph: Graph, inputShapes: Shapes): Shapes {
  const out: Shapes = {};
  for (const d of [...graph.inputs, ...graph.params]) {
    const given = inputShapes[d.name];
    const declared = d.shape;
    const shape = given ?? (declared.every((s) => typeof s === 'number') ? (declared as number[]) : null);
    if (!shape) throw new Error(`shapes: input ${d.name} has a batch dimension; pass its concrete shape`);
    out[d.name] = shape.slice();
  }
  for (const n of graph.nodes) {
    out[n.output] = nodeShape(
      n,
      n.inputs.map((i) => out[i]),
    );
  }
  return out;
}
