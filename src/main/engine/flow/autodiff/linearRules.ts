/**
 * Reverse-mode rule of the dense layer y = x·W + b ([N, K]·[K, M] + [M]):
 *   x̄ = ȳ·Wᵀ   (MatMulNT)      W̄ = xᵀ·ȳ   (MatMulTN)      b̄ = Σ_rows ȳ   (ColSum)
 * The transposes are flags of the product (ONNX Gemm transA/transB), never materialized.
 */
import type { OpName } from '../graph';
import { colSum, type VjpRule } from './context';

export const LINEAR_RULES: Partial<Record<OpName, VjpRule>> = {
  Dense: (c, node, dy, needs) => {
    const [x, w] = node.inputs;
    return [
      needs[0] ? c.emit('MatMulNT', [dy, w]) : null,
      needs[1] ? c.emit('MatMulTN', [x, dy]) : null,
      needs[2] ? colSum(c, dy, c.shape(dy)[0]) : null,
    ];
  },
};
