/**
 * KNN baseline: with d_1 ≤ … ≤ d_k the Euclidean distances from x to its k nearest inlier
 * training points,
 *   score(x) = d_k                      (method 'largest', PyOD's default)
 *   score(x) = (1/k) Σ_{j≤k} d_j        (method 'mean').
 * A query that is itself a training point counts itself as a neighbour (distance 0).
 * Distances come from the blocked ‖a‖² + ‖b‖² − 2a·b expansion; the k selected neighbours'
 * distances are then recomputed exactly.
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import { forEachDistanceTile } from './distance';
import { type BaselineState, checkFitData, checkScoreData, tensorOf } from './state';

export type KnnMethod = 'largest' | 'mean';

/** How `method` is stored in `params.method`. */
export const KNN_METHOD_CODE: Record<KnnMethod, number> = { largest: 0, mean: 1 };

export interface KnnOptions {
  /** number of neighbours, default 5 */
  k?: number;
  /** default 'largest' */
  method?: KnnMethod;
}

export function fitKnn(inliers: Matrix, opts: KnnOptions = {}): BaselineState {
  checkFitData(inliers, 'knn');
  const k = opts.k ?? 5;
  const method = opts.method ?? 'largest';
  if (!Number.isInteger(k) || k < 1) {
    throw new UserError(`knn: k must be a positive integer, got ${k}`, 'Use e.g. k = 5.');
  }
  if (k >= inliers.rows) {
    throw new UserError(
      `knn: k = ${k} needs more than ${k} training points, got ${inliers.rows}`,
      `Use k ≤ ${Math.max(1, inliers.rows - 1)} or fit on more inlier rows.`,
    );
  }
  if (!(method in KNN_METHOD_CODE)) {
    throw new UserError(`knn: unknown method '${String(method)}'`, "Use 'largest' or 'mean'.");
  }
  return {
    kind: 'knn',
    params: { k, method: KNN_METHOD_CODE[method] },
    tensors: { train: { rows: inliers.rows, cols: inliers.cols, data: inliers.data.slice() } },
  };
}

export function scoreKnn(state: BaselineState, x: Matrix): Float32Array {
  const train = tensorOf(state, 'train', 'knn');
  checkScoreData(x, state, train.cols);
  const k = state.params.k;
  const method = state.params.method;
  if (!Number.isInteger(k) || k < 1 || k > train.rows) {
    throw new UserError(`knn baseline state has an invalid k = ${k} for ${train.rows} training points`);
  }
  if (method !== 0 && method !== 1) {
    throw new UserError(`knn baseline state has an unknown method code ${method}`);
  }
  const nq = x.rows;
  // per query: its k best squared distances (ascending) and their training-row indices
  const best = new Float64Array(nq * k).fill(Infinity);
  const bestIdx = new Int32Array(nq * k).fill(-1);
  const isNan = new Uint8Array(nq);

  const pair = forEachDistanceTile(x, train, (q0, q1, t0, t1, d2) => {
    const w = t1 - t0;
    for (let q = q0; q < q1; q++) {
      const bo = q * k;
      const last = bo + k - 1;
      let worst = best[last];
      const to = (q - q0) * w - t0;
      for (let t = t0; t < t1; t++) {
        const v = d2[to + t];
        if (v < worst) {
          // insertion into the sorted k-list, dropping the current worst
          let p = last;
          while (p > bo && best[p - 1] > v) {
            best[p] = best[p - 1];
            bestIdx[p] = bestIdx[p - 1];
            p--;
          }
          best[p] = v;
          bestIdx[p] = t;
          worst = best[last];
        } else if (v !== v) {
          isNan[q] = 1;
        }
      }
    }
  });

  // exact float64 distances of the selected neighbours
  const { q: Q, t: T, cols: d } = pair;
  const out = new Float32Array(nq);
  const dist = new Float64Array(k);
  for (let q = 0; q < nq; q++) {
    if (isNan[q]) {
      out[q] = NaN;
      continue;
    }
    if (bestIdx[q * k + k - 1] < 0) {
      out[q] = Infinity; // all distances infinite (±Infinity features)
      continue;
    }
    const qo = q * d;
    for (let j = 0; j < k; j++) {
      const to = bestIdx[q * k + j] * d;
      let s = 0;
      for (let c = 0; c < d; c++) {
        const diff = Q[qo + c] - T[to + c];
        s += diff * diff;
      }
      dist[j] = Math.sqrt(s);
    }
    if (method === 0) {
      let m = 0;
      for (let j = 0; j < k; j++) if (dist[j] > m) m = dist[j];
      out[q] = m;
    } else {
      let s = 0;
      for (let j = 0; j < k; j++) s += dist[j];
      out[q] = s / k;
    }
  }
  return out;
}
