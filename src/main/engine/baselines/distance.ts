/**
 * Blocked pairwise squared Euclidean distances, for the neighbour/kernel baselines:
 *
 *   ‖a − b‖² = ‖a‖² + ‖b‖² − 2·a·b
 *
 * computed in float64 on data centred on the reference set's mean (centring leaves distances
 * unchanged and keeps the expansion from cancelling catastrophically), clamped at 0.
 * Query rows × reference rows are visited in cache-sized tiles, with a register-blocked
 * dot-product kernel.
 */
import type { Matrix } from '../util/matrix';
import { columnMeans } from './mse';

/** Rows of `m` minus `mu`, as float64. */
export function centred(m: Matrix, mu: Float64Array): Float64Array {
  const { rows, cols, data } = m;
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let c = 0; c < cols; c++) out[o + c] = data[o + c] - mu[c];
  }
  return out;
}

function rowSqNorms(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const o = r * cols;
    for (let c = 0; c < cols; c++) s += a[o + c] * a[o + c];
    out[r] = s;
  }
  return out;
}

/**
 * A tile of squared distances: `d2[(q − q0) * (t1 − t0) + (t − t0)]` = ‖query_q − ref_t‖²
 * for q in [q0, q1), t in [t0, t1).
 */
export type DistanceTileVisitor = (q0: number, q1: number, t0: number, t1: number, d2: Float64Array) => void;

export interface CentredPair {
  /** query rows, centred on the reference mean, float64 row-major */
  q: Float64Array;
  /** reference rows, centred, float64 row-major */
  t: Float64Array;
  cols: number;
}

export function centrePair(query: Matrix, ref: Matrix): CentredPair {
  const mu = columnMeans(ref);
  return { q: centred(query, mu), t: centred(ref, mu), cols: ref.cols };
}

const QUERY_TILE = 32;
const REF_TILE = 256;

/** Visit all query × reference squared distances tile by tile. */
export function forEachDistanceTile(query: Matrix, ref: Matrix, visit: DistanceTileVisitor): CentredPair {
  if (query.cols !== ref.cols) {
    throw new Error(`forEachDistanceTile: ${query.cols} vs ${ref.cols} columns`);
  }
  const pair = centrePair(query, ref);
  const { q: Q, t: T, cols: d } = pair;
  const nq = query.rows;
  const nt = ref.rows;
  const qn = rowSqNorms(Q, nq, d);
  const tn = rowSqNorms(T, nt, d);
  const tile = new Float64Array(QUERY_TILE * REF_TILE);
  for (let q0 = 0; q0 < nq; q0 += QUERY_TILE) {
    const q1 = Math.min(nq, q0 + QUERY_TILE);
    for (let t0 = 0; t0 < nt; t0 += REF_TILE) {
      const t1 = Math.min(nt, t0 + REF_TILE);
      dotTile(Q, T, d, q0, q1, t0, t1, tile);
      const w = t1 - t0;
      for (let qi = q0; qi < q1; qi++) {
        const qq = qn[qi];
        const base = (qi - q0) * w - t0;
        for (let ti = t0; ti < t1; ti++) {
          const v = qq + tn[ti] - 2 * tile[base + ti];
          tile[base + ti] = v < 0 ? 0 : v; // keeps NaN (a NaN query scores NaN)
        }
      }
      visit(q0, q1, t0, t1, tile);
    }
  }
  return pair;
}

/**
 * out[(q − q0)·(t1 − t0) + (t − t0)] = Q_q · T_t. Register-blocked: 4 query rows × 2
 * reference rows per inner loop (8 accumulators, 6 loads per 8 multiply-adds), which runs
 * about 3× faster in V8 than one dot product at a time.
 */
function dotTile(
  Q: Float64Array,
  T: Float64Array,
  d: number,
  q0: number,
  q1: number,
  t0: number,
  t1: number,
  out: Float64Array,
): void {
  const w = t1 - t0;
  let qi = q0;
  for (; qi + 4 <= q1; qi += 4) {
    const qa = qi * d;
    const qb = qa + d;
    const qc = qb + d;
    const qd = qc + d;
    const o = (qi - q0) * w - t0;
    let ti = t0;
    for (; ti + 2 <= t1; ti += 2) {
      const u = ti * d;
      const v = u + d;
      let a0 = 0;
      let a1 = 0;
      let b0 = 0;
      let b1 = 0;
      let c0 = 0;
      let c1 = 0;
      let e0 = 0;
      let e1 = 0;
      for (let j = 0; j < d; j++) {
        const x0 = T[u + j];
        const x1 = T[v + j];
        const ya = Q[qa + j];
        const yb = Q[qb + j];
        const yc = Q[qc + j];
        const yd = Q[qd + j];
        a0 += ya * x0;
        a1 += ya * x1;
        b0 += yb * x0;
        b1 += yb * x1;
        c0 += yc * x0;
        c1 += yc * x1;
        e0 += yd * x0;
        e1 += yd * x1;
      }
      out[o + ti] = a0;
      out[o + ti + 1] = a1;
      out[o + w + ti] = b0;
      out[o + w + ti + 1] = b1;
      out[o + 2 * w + ti] = c0;
      out[o + 2 * w + ti + 1] = c1;
      out[o + 3 * w + ti] = e0;
      out[o + 3 * w + ti + 1] = e1;
    }
    for (; ti < t1; ti++) {
      const u = ti * d;
      let a = 0;
      let b = 0;
      let c = 0;
      let e = 0;
      for (let j = 0; j < d; j++) {
        const x = T[u + j];
        a += Q[qa + j] * x;
        b += Q[qb + j] * x;
        c += Q[qc + j] * x;
        e += Q[qd + j] * x;
      }
      out[o + ti] = a;
      out[o + w + ti] = b;
      out[o + 2 * w + ti] = c;
      out[o + 3 * w + ti] = e;
    }
  }
  for (; qi < q1; qi++) {
    const qa = qi * d;
    const o = (qi - q0) * w - t0;
    for (let ti = t0; ti < t1; ti++) {
      const u = ti * d;
      let a = 0;
      for (let j = 0; j < d; j++) a += Q[qa + j] * T[u + j];
      out[o + ti] = a;
    }
  }
}
