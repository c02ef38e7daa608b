/**
 * The score axis of the distribution chart: a symmetric log ("symlog") transform
 *
 *   u = sign(x − c) · log10(1 + |x − c| / s)
 *
 * around the bulk of the scores. Within a few `s` of `c` it is nearly linear (the bulk keeps its
 * shape); far from `c` it is logarithmic (a tail up to 100× the bulk's width still fits).
 * Pure functions: the chart option builder and its tests use them.
 */

export interface SymlogAxis {
  /** the centre c of the bulk */
  center: number;
  /** the linear scale s (> 0) */
  scale: number;
}

export function symlog(x: number, axis: SymlogAxis): number {
  const d = (x - axis.center) / axis.scale;
  return Math.sign(d) * Math.log10(1 + Math.abs(d));
}

export function symlogInverse(u: number, axis: SymlogAxis): number {
  return axis.center + Math.sign(u) * axis.scale * (10 ** Math.abs(u) - 1);
}

/** The p-th percentile (0..100, fractional allowed) from 101 percentiles, linearly interpolated. */
export function percentileAt(percentiles: readonly number[], p: number): number {
  const n = percentiles.length - 1;
  if (n < 0) return Number.NaN;
  const x = Math.min(n, Math.max(0, (p / 100) * n));
  const lo = Math.floor(x);
  const hi = Math.min(n, lo + 1);
  return percentiles[lo] + (percentiles[hi] - percentiles[lo]) * (x - lo);
}

/**
 * An axis for score distributions, centred on the reference group (the inliers): c = its median and
 * s = its interquartile range, so the inliers' bulk keeps its shape (the axis is almost linear there)
 * and everything far from it, the anomalies' bulk and both tails, is spread logarithmically by its
 * distance. Without a reference group, the middle half of all groups together plays its part.
 */
export function chooseSymlogAxis(
  reference: readonly number[] | null,
  groups: readonly (readonly number[])[],
): SymlogAxis {
  const usable = groups.filter((p) => p.length > 1);
  if (reference && reference.length > 1) {
    const center = percentileAt(reference, 50);
    const iqr = percentileAt(reference, 75) - percentileAt(reference, 25);
    return { center, scale: iqr > 0 ? iqr : fallbackScale([reference, ...usable], center) };
  }
  if (usable.length === 0) return { center: 0, scale: 1 };
  const lo = Math.min(...usable.map((p) => percentileAt(p, 25)));
  const hi = Math.max(...usable.map((p) => percentileAt(p, 75)));
  const center = (lo + hi) / 2;
  return { center, scale: hi - lo > 0 ? (hi - lo) / 2 : fallbackScale(usable, center) };
}

/** A scale for a degenerate bulk (all scores equal): a hundredth of the whole range, else 1. */
function fallbackScale(groups: readonly (readonly number[])[], center: number): number {
  const min = Math.min(...groups.map((p) => p[0]));
  const max = Math.max(...groups.map((p) => p[p.length - 1]));
  return max > min ? (max - min) / 100 : Math.max(Math.abs(center) * 1e-3, 1);
}

/** `x` rounded to a multiple of a power of ten no larger than `step`, down, up or to the nearest. */
function roundTo(x: number, step: number, how: 'down' | 'up' | 'nearest' = 'nearest'): number {
  if (!(step > 0) || !Number.isFinite(step)) return x;
  const unit = 10 ** Math.floor(Math.log10(step));
  const f = how === 'down' ? Math.floor : how === 'up' ? Math.ceil : Math.round;
  return Number((f(x / unit) * unit).toPrecision(12));
}

/**
 * Readable tick values (in score units) for the axis over [uMin, uMax] in transformed units: the
 * centre, and about `count` positions evenly spread in u, each rounded to a round score near it
 * (the two ends inwards, so they stay on the axis); ticks closer than half a spacing are dropped.
 */
export function symlogTicks(axis: SymlogAxis, uMin: number, uMax: number, count = 8): number[] {
  if (!(uMax > uMin)) return [symlogInverse(uMin, axis)];
  const du = (uMax - uMin) / (count - 1);
  const near = (u: number, how: 'down' | 'up' | 'nearest') => {
    // the score distance to the neighbouring positions: round to (a power of ten below) half of it
    const step = Math.abs(symlogInverse(u + du / 2, axis) - symlogInverse(u - du / 2, axis)) / 2;
    return roundTo(symlogInverse(u, axis), step, how);
  };
  const candidates: number[] = [];
  if (uMin < 0 && uMax > 0) candidates.push(near(0, 'nearest'));
  for (let i = 0; i < count; i++)
    candidates.push(near(uMin + i * du, i === 0 ? 'up' : i === count - 1 ? 'down' : 'nearest'));
  const ticks: number[] = [];
  for (const t of candidates) {
    const u = symlog(t, axis);
    if (u < uMin - 1e-9 || u > uMax + 1e-9) continue;
    if (ticks.some((x) => x === t || Math.abs(symlog(x, axis) - u) < du / 2)) continue;
    ticks.push(t);
  }
  return ticks.sort((a, b) => a - b);
}

/** A tick label: up to 3 significant digits, thousands as "k". */
export function formatTick(x: number): string {
  if (!Number.isFinite(x)) return '';
  const a = Math.abs(x);
  if (a >= 10_000) return `${Number((x / 1000).toPrecision(3))}k`;
  if (a >= 100) return String(Math.round(x));
  return String(Number(x.toPrecision(3)));
}
