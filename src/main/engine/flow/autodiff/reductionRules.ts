/**
 * Reverse-mode rules of the reductions (each input element receives the adjoint of the sum
 * it went into):
 *   RowSum [N, C] → [N]   x̄[r, j] = ȳ[r]            (BroadcastCols)
 *   SumAll x → scalar     x̄ = ȳ everywhere           (Fill; FillLike when x's rows are counted at run time)
 *   Mean   x → scalar     x̄ = ȳ / |x| everywhere     (Fill, Scale; |x| must be known)
 */
import type { OpName } from '../graph';
import type { VjpRule } from './context';
import { isDynamic } from './shapes';

export const REDUCTION_RULES: Partial<Record<OpName, VjpRule>> = {
  RowSum: (c, node, dy, needs) => [
    needs[0] ? c.emit('BroadcastCols', [dy], { size: c.shape(node.inputs[0])[1] }) : null,
  ],
  SumAll: (c, node, dy, needs) => {
    if (!needs[0]) return [null];
    const shape = c.shape(node.inputs[0]);
    return [isDynamic(shape) ? c.emit('FillLike', [dy, node.inputs[0]]) : c.emit('Fill', [dy], { shape })];
  },
  Mean: (c, node, dy, needs) => {
    if (!needs[0]) return [null];
    const shape = c.shape(node.inputs[0]);
    if (isDynamic(shape))
      throw new Error(
        `autodiff: Mean ${node.output} over a run-time row count (use SumAll and a known divisor)`,
      );
    const count = shape.reduce((a, b) => a * b, 1);
    return [c.emit('Fill', [c.emit('Scale', [dy], { alpha: 1 / count })], { shape })];
  },
};
