/**
 * Score histograms per group on shared bin edges (paper Fig. 1/8).
 *
 *   edges_i = lo + i·(hi − lo)/bins,  i = 0..bins,
 * with lo/hi the min/max of all groups' finite scores; bin i counts edges_i ≤ s < edges_{i+1}
 * (the last bin also includes hi). NaN/±∞ scores are counted separately as `nonFinite`.
 * With `range` given, lo/hi are its bounds instead, and finite scores outside it are counted in
 * the first or last bin (a long tail then does not squeeze every other bin into a few pixels).
 */
import { UserError } from '../util/errors';

export interface HistogramGroup {
  name: string;
  counts: number[];
  /** All scores of the group, finite or not. */
  n: number;
  /** Scores that are NaN or ±Infinity (not in any bin). */
  nonFinite: number;
}

export interface Histograms {
  edges: number[];
  groups: HistogramGroup[];
}

export function histograms(
  groups: { name: string; scores: ArrayLike<number> }[],
  bins = 50,
  range?: { lo: number; hi: number },
): Histograms {
  if (!Number.isInteger(bins) || bins < 1) {
    throw new UserError(`histograms: bins must be a positive integer, got ${bins}`);
  }
  let lo = Infinity;
  let hi = -Infinity;
  if (range) {
    if (!(Number.isFinite(range.lo) && Number.isFinite(range.hi) && range.lo <= range.hi))
      throw new UserError(`histograms: bad range [${range.lo}, ${range.hi}]`);
    lo = range.lo;
    hi = range.hi;
  }
  for (const g of range ? [] : groups) {
    for (let i = 0; i < g.scores.length; i++) {
      const v = g.scores[i];
      if (Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  if (lo > hi) {
    // no finite score anywhere
    lo = 0;
    hi = 1;
  } else if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const width = (hi - lo) / bins;
  const edges: number[] = new Array(bins + 1);
  for (let i = 0; i <= bins; i++) edges[i] = lo + i * width;
  edges[bins] = hi;

  const out: HistogramGroup[] = groups.map((g) => {
    const counts: number[] = new Array(bins).fill(0);
    let nonFinite = 0;
    for (let i = 0; i < g.scores.length; i++) {
      const v = g.scores[i];
      if (!Number.isFinite(v)) {
        nonFinite++;
        continue;
      }
      let b = Math.floor((v - lo) / width);
      if (b < 0) b = 0;
      if (b > bins - 1) b = bins - 1;
      // make the bin agree with the edges actually returned (rounding at bin borders)
      if (b > 0 && v < edges[b]) b--;
      else if (b < bins - 1 && v >= edges[b + 1]) b++;
      counts[b]++;
    }
    return { name: g.name, counts, n: g.scores.length, nonFinite };
  });
  return { edges, groups: out };
}

/**
 * The histogram's x range: all finite scores, unless the top 1 % reach further than half the
 * spread of the middle 98 % beyond the 99th percentile; then the range stops at the 99th
 * percentile and the last bin also counts the scores above it.
 */
export function histogramRange(scores: readonly number[]): { lo: number; clippedAbove: number | null } {
  const s = scores.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length < 100) return { lo: s[0] ?? 0, clippedAbove: null };
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  const q01 = q(0.01);
  const q99 = q(0.99);
  const max = s[s.length - 1];
  return { lo: s[0], clippedAbove: max > q99 + 0.5 * (q99 - q01) ? q99 : null };
}
