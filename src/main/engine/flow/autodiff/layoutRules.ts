/**
 * Reverse-mode rules of the ops that only move values (adjoint = the transposed move):
 *   SliceCols x[:, s:e]   x̄ = ȳ padded with zero columns back to x's width   (PadCols)
 *   SliceRows x[s:e]      x̄ = ȳ padded with zero rows back to x's rows       (PadRows)
 *   ConcatCols [a, b]     ā = ȳ[:, :Ca], b̄ = ȳ[:, Ca:]
 *   ConcatRows [a; b]     ā = ȳ[:Na],    b̄ = ȳ[Na:]
 *   Permute x[:, π]       x̄ = ȳ[:, π⁻¹]  (a permutation matrix is orthogonal: Pᵀ = P⁻¹)
 */
import type { OpName } from '../graph';
import { invertPermutation } from '../spec';
import type { VjpRule } from './context';
import { DYNAMIC } from './shapes';

export const LAYOUT_RULES: Partial<Record<OpName, VjpRule>> = {
  SliceCols: (c, node, dy, needs) => {
    const { start, end } = node.attrs!;
    const width = c.shape(node.inputs[0])[1];
    return [needs[0] ? c.emit('PadCols', [dy], { start, end, size: width }) : null];
  },
  SliceRows: (c, node, dy, needs) => {
    const { start, end } = node.attrs!;
    const xs = c.shape(node.inputs[0]);
    if (needs[0] && xs[0] === DYNAMIC)
      throw new Error(`autodiff: SliceRows ${node.output} of a run-time row count cannot be padded back`);
    return [needs[0] ? c.emit('PadRows', [dy], { start, end, size: xs[0], rank: xs.length }) : null];
  },
  ConcatCols: (c, node, dy, needs) => {
    const ca = c.shape(node.inputs[0])[1];
    const cb = c.shape(node.inputs[1])[1];
    return [
      needs[0] ? c.emit('SliceCols', [dy], { start: 0, end: ca }) : null,
      needs[1] ? c.emit('SliceCols', [dy], { start: ca, end: ca + cb }) : null,
    ];
  },
  ConcatRows: (c, node, dy, needs) => {
    const na = c.shape(node.inputs[0])[0];
    const nb = c.shape(node.inputs[1])[0];
    if ((needs[0] || needs[1]) && (na === DYNAMIC || nb === DYNAMIC))
      throw new Error(`autodiff: ConcatRows ${node.output} of a run-time row count cannot be split back`);
    return [
      needs[0] ? c.emit('SliceRows', [dy], { start: 0, end: na }) : null,
      needs[1] ? c.emit('SliceRows', [dy], { start: na, end: na + nb }) : null,
    ];
  },
  Permute: (c, node, dy, needs) => [
    needs[0] ? c.emit('Permute', [dy], { perm: invertPermutation(node.attrs!.perm!) }) : null,
  ],
};
