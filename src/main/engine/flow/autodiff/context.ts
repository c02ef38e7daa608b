/**
 * What a reverse-mode rule sees: the forward node, the adjoint of its output (dy, an IR tensor
 * name), which inputs need an adjoint, and an emitter that appends backward nodes to the graph.
 * A rule returns one adjoint name per input (null where not needed or identically zero).
 */
import type { GraphNode, OpName } from '../graph';
import { DYNAMIC } from './shapes';

export interface VjpContext {
  /** appends a backward node; returns its output name */
  emit(op: OpName, inputs: string[], attrs?: GraphNode['attrs']): string;
  /** concrete shape of a forward tensor */
  shape(name: string): number[];
}

export type VjpRule = (ctx: VjpContext, node: GraphNode, dy: string, needs: boolean[]) => (string | null)[];

const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);

/**
 * Undoes IR broadcasting for the adjoint of an elementwise binary op's input `input`:
 *   same shape → g;   scalar input → Σ_all g;   vector [C] over [N, C] → Σ_rows g (ColSum).
 * Shapes are compared with their ranks: a row count known only at run time (DYNAMIC, −1) makes
 * element counts negative, so a count alone could not tell [−1, C] from [−C].
 */
export function unbroadcast(ctx: VjpContext, g: string, input: string, output: string): string {
  const si = ctx.shape(input);
  const so = ctx.shape(output);
  if (si.length === so.length && size(si) === size(so)) return g;
  if (si.length === 0) return ctx.emit('SumAll', [g]);
  if (si.length === 1 && so.length === 2 && si[0] === so[1]) return colSum(ctx, g, so[0]);
  throw new Error(`autodiff: cannot undo broadcasting of [${si}] to [${so}]`);
}

/** Σ_rows g; the row count rides along when it is known (a GEMV in ONNX), not when it is DYNAMIC */
export function colSum(ctx: VjpContext, g: string, rows: number): string {
  return ctx.emit('ColSum', [g], rows === DYNAMIC ? undefined : { size: rows });
}
