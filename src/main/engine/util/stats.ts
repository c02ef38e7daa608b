/**
 * Summary statistics of score arrays (float64 accumulation).
 *
 *   mean = Σ v_i / n
 *   std  = sqrt(Σ (v_i − mean)² / n)            (population, numpy ddof=0)
 *   quantile(q): sorted v, position h = q·(n − 1),
 *                v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋+1] − v[⌊h⌋])   (numpy's default 'linear')
 */
import { UserError } from '../util/errors';

function checkNonEmpty(values: ArrayLike<number>, what: string): void {
  if (values.length === 0) throw new UserError(`${what} of an empty list of values`);
}

export function mean(values: ArrayLike<number>): number {
  checkNonEmpty(values, 'mean');
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s / values.length;
}

export function std(values: ArrayLike<number>): number {
  return meanStd(values).std;
}

export function meanStd(values: ArrayLike<number>): { mean: number; std: number } {
  const m = mean(values);
  let ss = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - m;
    ss += d * d;
  }
  return { mean: m, std: Math.sqrt(ss / values.length) };
}

export function quantile(values: ArrayLike<number>, q: number): number {
  checkNonEmpty(values, 'quantile');
  if (!(q >= 0 && q <= 1)) {
    throw new UserError(`quantile: q must be in [0, 1], got ${q}`);
  }
  const v = Float64Array.from(values);
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) throw new UserError(`quantile: value ${i} is NaN`);
  }
  v.sort();
  const h = q * (v.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, v.length - 1);
  const f = h - lo;
  if (f === 0 || v[lo] === v[hi]) return v[lo];
  return v[lo] + f * (v[hi] - v[lo]);
}
