/**
 * PCA baseline: centre on the inlier mean μ, eigen-decompose the covariance
 * C = (1/(n−1)) Σ (x_i − μ)(x_i − μ)ᵀ, keep the top-k eigenvectors P (d×k) with k the
 * smallest number whose eigenvalues sum to ≥ varianceKept of the total; score is the squared
 * reconstruction error
 *   score(x) = ‖(x − μ) − P Pᵀ (x − μ)‖².
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import { columnMeans, rowVector } from './mse';
import { symmetricEigen } from './eigen';
import { type BaselineState, checkFitData, checkScoreData, tensorOf } from './state';

export interface PcaOptions {
  /** share of the total variance the kept components must explain, in (0, 1]; default 0.95 */
  varianceKept?: number;
  /** keep exactly this many components instead (overrides varianceKept) */
  components?: number;
}

/** Number of leading eigenvalues (descending, clipped at 0) explaining `kept` of their sum. */
export function componentsForVariance(values: ArrayLike<number>, kept: number): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += Math.max(0, values[i]);
  if (total <= 0) return 0;
  const target = kept * total * (1 - 1e-12);
  let acc = 0;
  for (let i = 0; i < values.length; i++) {
    acc += Math.max(0, values[i]);
    if (acc >= target) return i + 1;
  }
  return values.length;
}

export function fitPca(inliers: Matrix, opts: PcaOptions = {}): BaselineState {
  checkFitData(inliers, 'pca');
  const varianceKept = opts.varianceKept ?? 0.95;
  if (!(varianceKept > 0 && varianceKept <= 1)) {
    throw new UserError(`pca: varianceKept must be in (0, 1], got ${varianceKept}`, 'Use e.g. 0.95.');
  }
  const { rows: n, cols: d, data } = inliers;
  if (d > 1024) {
    throw new UserError(
      `pca: ${d} feature dimensions is too many for the built-in eigen solver (≤ 1024)`,
      'Reduce the feature dimension first, or use another baseline.',
    );
  }
  if (opts.components !== undefined) {
    const k = opts.components;
    if (!Number.isInteger(k) || k < 0 || k > d) {
      throw new UserError(`pca: components must be an integer in 0..${d}, got ${k}`);
    }
  }
  const mu = columnMeans(inliers);
  // covariance (upper triangle, then mirrored), float64
  const cov = new Float64Array(d * d);
  const r = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) r[c] = data[o + c] - mu[c];
    for (let a = 0; a < d; a++) {
      const ra = r[a];
      if (ra === 0) continue;
      const ao = a * d;
      for (let b = a; b < d; b++) cov[ao + b] += ra * r[b];
    }
  }
  const denom = Math.max(1, n - 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov[a * d + b] / denom;
      cov[a * d + b] = v;
      cov[b * d + a] = v;
    }
  }
  const { values, vectors } = symmetricEigen(cov, d);
  const k = opts.components ?? componentsForVariance(values, varianceKept);
  // components as rows (k×d): row j = eigenvector j
  const comp = new Float32Array(k * d);
  for (let j = 0; j < k; j++) {
    for (let i = 0; i < d; i++) comp[j * d + i] = vectors[i * d + j];
  }
  let total = 0;
  let keptVar = 0;
  for (let j = 0; j < d; j++) {
    const v = Math.max(0, values[j]);
    total += v;
    if (j < k) keptVar += v;
  }
  return {
    kind: 'pca',
    params: {
      varianceKept,
      components: k,
      explainedVariance: total > 0 ? keptVar / total : 1,
    },
    tensors: {
      mean: rowVector(mu),
      components: { rows: k, cols: d, data: comp },
      eigenvalues: rowVector(values),
    },
  };
}

export function scorePca(state: BaselineState, x: Matrix): Float32Array {
  const mean = tensorOf(state, 'mean', 'pca');
  const P = tensorOf(state, 'components', 'pca');
  const d = mean.cols;
  checkScoreData(x, state, d);
  if (P.cols !== d) throw new UserError(`pca baseline state: components have ${P.cols} columns, mean ${d}`);
  const k = P.rows;
  const pc = P.data;
  const mu = mean.data;
  const out = new Float32Array(x.rows);
  const r = new Float64Array(d);
  const coef = new Float64Array(k);
  for (let i = 0; i < x.rows; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) r[c] = x.data[o + c] - mu[c];
    // coef = Pᵀ r  (P stored as rows)
    for (let j = 0; j < k; j++) {
      let s = 0;
      const jo = j * d;
      for (let c = 0; c < d; c++) s += pc[jo + c] * r[c];
      coef[j] = s;
    }
    // residual r − P coef
    for (let j = 0; j < k; j++) {
      const cj = coef[j];
      const jo = j * d;
      for (let c = 0; c < d; c++) r[c] -= cj * pc[jo + c];
    }
    let e = 0;
    for (let c = 0; c < d; c++) e += r[c] * r[c];
    out[i] = e;
  }
  return out;
}
