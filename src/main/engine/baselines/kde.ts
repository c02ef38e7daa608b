/**
 * KDE baseline: isotropic Gaussian kernel density of the n inlier points x_i in d dimensions,
 *
 *   p̂(x) = (1/n) Σ_i (2π h²)^(−d/2) · exp(−‖x − x_i‖² / (2h²)),
 *   score(x) = −log p̂(x) = −logsumexp_i(−‖x − x_i‖² / (2h²)) + log n + (d/2)·log(2π h²),
 *
 * evaluated with a running log-sum-exp, so far points get a large finite score instead of
 * −log 0 = ∞. Bandwidth by Scott's rule unless given: h = n^(−1/(d+4)) · mean_j σ_j, with σ_j
 * the per-dimension sample standard deviation (ddof = 1, as scipy's gaussian_kde).
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import { columnMeans } from './mse';
import { forEachDistanceTile } from './distance';
import { type BaselineState, checkFitData, checkScoreData, tensorOf } from './state';

export interface KdeOptions {
  /** kernel bandwidth h > 0; default Scott's rule */
  bandwidth?: number;
}

/** Scott's rule h = n^(−1/(d+4)) · (mean per-dimension sample std). */
export function scottBandwidth(m: Matrix): number {
  const { rows: n, cols: d, data } = m;
  if (n < 2) return 0;
  const mu = columnMeans(m);
  const ss = new Float64Array(d);
  for (let r = 0; r < n; r++) {
    const o = r * d;
    for (let c = 0; c < d; c++) {
      const v = data[o + c] - mu[c];
      ss[c] += v * v;
    }
  }
  let meanStd = 0;
  for (let c = 0; c < d; c++) meanStd += Math.sqrt(ss[c] / (n - 1));
  meanStd /= d;
  return Math.pow(n, -1 / (d + 4)) * meanStd;
}

export function fitKde(inliers: Matrix, opts: KdeOptions = {}): BaselineState {
  checkFitData(inliers, 'kde');
  let h: number;
  if (opts.bandwidth !== undefined) {
    h = opts.bandwidth;
    if (!(Number.isFinite(h) && h > 0)) {
      throw new UserError(`kde: bandwidth must be a positive number, got ${h}`);
    }
  } else {
    h = scottBandwidth(inliers);
    if (!(Number.isFinite(h) && h > 0)) {
      throw new UserError(
        `kde: Scott's rule gives bandwidth ${h} (${inliers.rows} training rows with no spread)`,
        'Fit on more than one distinct inlier row, or pass an explicit bandwidth.',
      );
    }
  }
  return {
    kind: 'kde',
    params: { bandwidth: h },
    tensors: { train: { rows: inliers.rows, cols: inliers.cols, data: inliers.data.slice() } },
  };
}

export function scoreKde(state: BaselineState, x: Matrix): Float32Array {
  const train = tensorOf(state, 'train', 'kde');
  checkScoreData(x, state, train.cols);
  const h = state.params.bandwidth;
  if (!(Number.isFinite(h) && h > 0)) {
    throw new UserError(`kde baseline state has an invalid bandwidth ${h}`);
  }
  const nq = x.rows;
  const n = train.rows;
  const d = train.cols;
  const inv2h2 = 1 / (2 * h * h);
  // running log-sum-exp per query: max exponent m and Σ exp(e − m)
  const mx = new Float64Array(nq).fill(-Infinity);
  const sm = new Float64Array(nq);
  forEachDistanceTile(x, train, (q0, q1, t0, t1, d2) => {
    const w = t1 - t0;
    for (let q = q0; q < q1; q++) {
      let m = mx[q];
      let s = sm[q];
      const o = (q - q0) * w;
      for (let j = 0; j < w; j++) {
        const e = -d2[o + j] * inv2h2;
        if (e > m) {
          s = s * Math.exp(m - e) + 1;
          m = e;
        } else if (e <= m) {
          if (e !== -Infinity) s += Math.exp(e - m); // exp(−∞) = 0 adds nothing
        } else s = NaN; // e is NaN: a NaN query scores NaN
      }
      mx[q] = m;
      sm[q] = s;
    }
  });
  const c = Math.log(n) + 0.5 * d * Math.log(2 * Math.PI * h * h);
  const out = new Float32Array(nq);
  for (let q = 0; q < nq; q++) out[q] = -(mx[q] + Math.log(sm[q])) + c;
  return out;
}
