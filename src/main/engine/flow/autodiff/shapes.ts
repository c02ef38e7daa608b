/**
 * Static shape inference over the graph IR, for concrete input shapes (no 'N'): the backward
 * pass needs each tensor's shape to undo broadcasting, pad slices back and fill reductions.
 */
import type { Graph, GraphNode } from '../graph';

export type Shapes = Record<string, number[]>;

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/** Shape of an elementwise binary result: the larger operand's (IR broadcasting rules). */
function broadcastShape(a: number[], b: number[], node: GraphNode): number[] {
  const big = size(a) >= size(b) ? a : b;
  const small = big === a ? b : a;
  const ok =
    size(small) === size(big) ||
    small.length === 0 ||
    (small.length === 1 && big.length === 2 && small[0] === big[1]);
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
      return a.length === 2 ? [at.end! - at.start!, a[1]] : [at.end! - at.start!];
    case 'ConcatCols':
      return [a[0], a[1] + b[1]];
    case 'ConcatRows':
      return a.length === 2 ? [a[0] + b[0], a[1]] : [a[0] + b[0]];
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
