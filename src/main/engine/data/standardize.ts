/**
 * Per-column standardization of tabular features with statistics of the inlier training
 * set (METHOD.md §1): mean/std or median/IQR. Constant columns carry no information and are
 * dropped with a notice; a median/IQR column whose IQR is 0 (but which does vary) is scaled
 * by its standard deviation instead, also with a notice.
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';

export type StandardizeMethod = 'mean-std' | 'median-iqr';

export interface Standardizer {
  method: StandardizeMethod;
  /** All column names of the data the standardizer was fit on. */
  inputColumns: string[];
  /** Names of the kept columns (the output columns, in order). */
  columns: string[];
  /** Indices into inputColumns of the kept columns. */
  keep: number[];
  /** Per kept column: subtracted value (mean or median). */
  center: Float32Array;
  /** Per kept column: divisor (std, IQR, or std when the IQR is 0). */
  scale: Float32Array;
  /** Columns left out, with why. */
  dropped: { column: string; reason: string }[];
  /** Human-readable notices (dropped columns, IQR→std fallbacks) for the user. */
  notes: string[];
}

/** The q-quantile of sorted values, linear interpolation (NumPy's default). */
function quantileSorted(v: Float64Array, q: number): number {
  const pos = q * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - lo);
}

/**
 * Fit per-column center/scale on `x` (the training rows). `source` names the data in
 * messages. Throws a UserError when every column is constant.
 */
export function fitStandardizer(
  x: Matrix,
  columns: string[],
  method: StandardizeMethod,
  source = 'the training data',
): Standardizer {
  if (columns.length !== x.cols) {
    throw new Error(`fitStandardizer: ${columns.length} column names for ${x.cols} columns`);
  }
  if (x.rows === 0) {
    throw new UserError(`Cannot standardize ${source}: it has no rows`, 'Provide at least 2 training rows.');
  }
  const keep: number[] = [];
  const center: number[] = [];
  const scale: number[] = [];
  const dropped: { column: string; reason: string }[] = [];
  const notes: string[] = [];
  const col = new Float64Array(x.rows);

  for (let c = 0; c < x.cols; c++) {
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (let r = 0; r < x.rows; r++) {
      const v = x.data[r * x.cols + c];
      if (!Number.isFinite(v)) {
        throw new UserError(
          `Cannot standardize ${source}: row ${r + 1}, column "${columns[c]}" is ${v}`,
          'Remove or fill in NaN and infinite values before training.',
        );
      }
      col[r] = v;
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    }
    if (min === max) {
      const reason = `constant (every value is ${min})`;
      dropped.push({ column: columns[c], reason });
      notes.push(`column "${columns[c]}" dropped: ${reason} in ${source}`);
      continue;
    }
    const mean = sum / x.rows;
    let ss = 0;
    for (let r = 0; r < x.rows; r++) ss += (col[r] - mean) * (col[r] - mean);
    const std = Math.sqrt(ss / x.rows);
    keep.push(c);
    if (method === 'mean-std') {
      center.push(mean);
      scale.push(std);
    } else {
      col.sort();
      const median = quantileSorted(col, 0.5);
      const iqr = quantileSorted(col, 0.75) - quantileSorted(col, 0.25);
      center.push(median);
      if (iqr > 0) {
        scale.push(iqr);
      } else {
        scale.push(std);
        notes.push(
          `column "${columns[c]}": interquartile range is 0 (at least half the values equal ${median}); scaled by its standard deviation (${std.toPrecision(4)}) instead`,
        );
      }
    }
  }

  if (keep.length === 0) {
    throw new UserError(
      `All ${x.cols} feature column${x.cols === 1 ? ' is' : 's are'} constant in ${source} (${x.rows} row${x.rows === 1 ? '' : 's'}), so there is nothing to learn from`,
      'Check that the right file and label column were used, and that the training rows are not all copies of one row.',
    );
  }
  return {
    method,
    inputColumns: columns.slice(),
    columns: keep.map((c) => columns[c]),
    keep,
    center: Float32Array.from(center),
    scale: Float32Array.from(scale),
    dropped,
    notes,
  };
}

/** Standardize `x` with a fitted standardizer: kept columns only, (x − center) / scale. */
export function applyStandardizer(s: Standardizer, x: Matrix, source = 'the data'): Matrix {
  const expected = s.inputColumns.length;
  if (x.cols !== expected) {
    throw new UserError(
      `Cannot standardize ${source}: expected ${expected} feature column${expected === 1 ? '' : 's'} (as in training: ${listNames(s.inputColumns)}), got ${x.cols}`,
      'Use data with the same feature columns, in the same order, as the training data.',
    );
  }
  const k = s.keep.length;
  const out = new Float32Array(x.rows * k);
  for (let r = 0; r < x.rows; r++) {
    const base = r * x.cols;
    for (let j = 0; j < k; j++) {
      out[r * k + j] = (x.data[base + s.keep[j]] - s.center[j]) / s.scale[j];
    }
  }
  return { rows: x.rows, cols: k, data: out };
}

function listNames(names: string[]): string {
  return names.length <= 8
    ? names.join(', ')
    : `${names.slice(0, 8).join(', ')}, … (${names.length - 8} more)`;
}
