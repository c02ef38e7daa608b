/** A table of features read from a CSV or .npy file (table.ts reads them, csv.ts and npy.ts parse). */
import type { Matrix } from '../util/matrix';

export interface Table {
  /** The path the table was read from, as the user gave it (used in messages). */
  source: string;
  /** Feature column names, in order (the label column excluded). For .npy: f0, f1, … */
  columns: string[];
  /** Features, one row per sample. */
  x: Matrix;
  /** Per-row label (0 = normal, 1 = anomaly) when a label column was named, else null. */
  labels: Float32Array | null;
  labelColumn: string | null;
}
