/**
 * Nearest rows by cosine distance d(q, x) = 1 − q·x / (‖q‖‖x‖), brute force: the item detail's
 * "nearest training images". Rows are L2-normalized once (normalizeRows) so each query costs
 * one dot product per row.
 */

/** Scales each row of a row-major [rows × dim] matrix to unit length (zero rows stay zero). */
export function normalizeRows(m: Float32Array, dim: number): void {
  for (let off = 0; off < m.length; off += dim) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += m[off + j] * m[off + j];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < dim; j++) m[off + j] *= inv;
  }
}

/**
 * The k rows of `rows` (unit length) closest to the unit vector `query`, closest first;
 * rows for which `skip(i)` is true are left out (e.g. the query image itself).
 */
export function nearestByCosine(
  query: Float32Array,
  rows: Float32Array,
  dim: number,
  k: number,
  skip: (i: number) => boolean = () => false,
): { index: number; distance: number }[] {
  const best: { index: number; distance: number }[] = [];
  const n = rows.length / dim;
  for (let i = 0; i < n; i++) {
    if (skip(i)) continue;
    let dot = 0;
    const off = i * dim;
    for (let j = 0; j < dim; j++) dot += query[j] * rows[off + j];
    const d = 1 - dot;
    if (best.length < k || d < best[best.length - 1].distance) {
      best.push({ index: i, distance: d });
      best.sort((a, b) => a.distance - b.distance);
      if (best.length > k) best.pop();
    }
  }
  return best;
}
