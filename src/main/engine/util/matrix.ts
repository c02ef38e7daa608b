/**
 * A dense row-major float matrix: the one data shape the engine passes around.
 * Element (r, c) lives at data[r * cols + c].
 */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float32Array;
}

export function matrix(rows: number, cols: number, data?: Float32Array): Matrix {
  if (data && data.length !== rows * cols) {
    throw new Error(`matrix: data has ${data.length} values, expected ${rows}×${cols}=${rows * cols}`);
  }
  return { rows, cols, data: data ?? new Float32Array(rows * cols) };
}

/** Rows `idx` of `m`, copied into a new matrix (order kept). */
export function takeRows(m: Matrix, idx: ArrayLike<number>): Matrix {
  const out = new Float32Array(idx.length * m.cols);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i];
    out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols);
  }
  return { rows: idx.length, cols: m.cols, data: out };
}

/** Stack matrices with the same column count on top of each other. */
export function vstack(ms: Matrix[]): Matrix {
  if (ms.length === 0) throw new Error('vstack: no matrices');
  const cols = ms[0].cols;
  let rows = 0;
  for (const m of ms) {
    if (m.cols !== cols) throw new Error(`vstack: column counts differ (${cols} vs ${m.cols})`);
    rows += m.rows;
  }
  const out = new Float32Array(rows * cols);
  let off = 0;
  for (const m of ms) {
    out.set(m.data, off);
    off += m.data.length;
  }
  return { rows, cols, data: out };
}

/** Row r as a view (no copy). */
export function row(m: Matrix, r: number): Float32Array {
  return m.data.subarray(r * m.cols, (r + 1) * m.cols);
}
