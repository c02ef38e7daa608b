/**
 * MSE baseline: the mean μ = (1/n) Σ x_i of the inlier features; score(x) = ‖x − μ‖².
 */
import type { Matrix } from '../util/matrix';
import { type BaselineState, checkFitData, checkScoreData, tensorOf } from './state';

/** Column means of a matrix, accumulated in float64. */
export function columnMeans(m: Matrix): Float64Array {
  const { rows, cols, data } = m;
  const mu = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) mu[c] += data[o + c];
  }
  for (let c = 0; c < cols; c++) mu[c] /= rows;
  return mu;
}

/** ‖x_r − μ‖² for every row r of x (float64 accumulation). */
export function sqDistToPoint(x: Matrix, mu: ArrayLike<number>): Float64Array {
  const { rows, cols, data } = x;
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let s = 0;
    for (let c = 0; c < cols; c++) {
      const d = data[o + c] - mu[c];
      s += d * d;
    }
    out[r] = s;
  }
  return out;
}

export function rowVector(v: ArrayLike<number>): Matrix {
  return { rows: 1, cols: v.length, data: Float32Array.from(v) };
}

export function fitMse(inliers: Matrix): BaselineState {
  checkFitData(inliers, 'mse');
  return { kind: 'mse', params: {}, tensors: { mean: rowVector(columnMeans(inliers)) } };
}

export function scoreMse(state: BaselineState, x: Matrix): Float32Array {
  const mu = tensorOf(state, 'mean', 'mse');
  checkScoreData(x, state, mu.cols);
  return Float32Array.from(sqDistToPoint(x, mu.data));
}
