/** Row-wise L2 normalization: every row scaled to unit Euclidean norm (zero rows stay zero). */
import type { Matrix } from '../util/matrix';

export function l2Normalize(x: Matrix): Matrix {
  const out = new Float32Array(x.rows * x.cols);
  for (let r = 0; r < x.rows; r++) {
    const base = r * x.cols;
    let ss = 0;
    for (let c = 0; c < x.cols; c++) {
      const v = x.data[base + c];
      ss += v * v;
    }
    if (ss === 0) continue;
    const inv = 1 / Math.sqrt(ss);
    for (let c = 0; c < x.cols; c++) out[base + c] = x.data[base + c] * inv;
  }
  return { rows: x.rows, cols: x.cols, data: out };
}
