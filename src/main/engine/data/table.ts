/**
 * A loaded feature table (rows = samples, columns = numeric features, optional 0/1 labels)
 * and the checks every caller needs: load by file extension, enough rows for a purpose,
 * and "the scoring file has the same columns as the training file".
 */
import path from 'node:path';
import { UserError } from '../util/errors';
import { readCsvTable } from './csv';
import { readNpy } from './npy';
import { checkInputFile } from './read-file';
import type { Table } from './tableData';

export type { Table } from './tableData';

export interface LoadTableOptions {
  /** Name of the label column (CSV/TSV only); it is excluded from the features. */
  labelColumn?: string;
  /** Fail unless labels were loaded (evaluation needs them). */
  requireLabel?: boolean;
}

const TEXT_EXTS = new Set(['.csv', '.tsv', '.txt']);

/** Load a feature table from .csv/.tsv/.txt (delimiter sniffed: ',', ';' or tab) or .npy. */
export function loadTable(file: string, opts: LoadTableOptions = {}): Table {
  // existence first, so a wrong path gets "not found" whatever its extension
  checkInputFile(file);
  const ext = path.extname(file).toLowerCase();
  if (opts.requireLabel && !opts.labelColumn) {
    throw new UserError(
      `"${file}" was loaded without a label column, but labels are needed here`,
      'Name the column that holds the labels (0 = normal, 1 = anomaly).',
    );
  }
  if (TEXT_EXTS.has(ext)) {
    return readCsvTable(file, { labelColumn: opts.labelColumn });
  }
  if (ext === '.npy') {
    if (opts.labelColumn) {
      throw new UserError(
        `"${file}" is a .npy file, which has no column names, so the label column "${opts.labelColumn}" can't be taken from it`,
        'Use a CSV file with a header row that includes the label column, or leave out the label column option for .npy input.',
      );
    }
    const x = readNpy(file);
    if (x.rows === 0 || x.cols === 0) {
      throw new UserError(
        `"${file}" holds an empty array of shape (${x.rows}, ${x.cols}); it needs at least one row and one column`,
        'Save the array with one row per sample and one column per feature.',
      );
    }
    const columns = Array.from({ length: x.cols }, (_, c) => `f${c}`);
    for (let i = 0; i < x.data.length; i++) {
      const v = x.data[i];
      if (!Number.isFinite(v)) {
        const r = Math.floor(i / x.cols);
        const c = i % x.cols;
        throw new UserError(
          `"${file}" row ${r + 1} (index ${r}), column ${c + 1} (${columns[c]}): value is ${v} (NaN and infinite values are not allowed)`,
          'Drop or fill in missing values before saving, e.g. x = x[np.isfinite(x).all(axis=1)].',
        );
      }
    }
    return { source: file, columns, x, labels: null, labelColumn: null };
  }
  throw new UserError(
    `"${file}" has an unsupported file type "${ext || '(no extension)'}"`,
    'Use a .csv, .tsv or .txt file with a header row, or a 2-D NumPy .npy array.',
  );
}

/** Throw unless `table` has at least `min` rows; `purpose` completes "need at least N rows to …". */
export function requireRows(table: Table, min: number, purpose: string): void {
  const n = table.x.rows;
  if (n >= min) return;
  throw new UserError(
    `"${table.source}" has ${n} data row${n === 1 ? '' : 's'}; need at least ${min} rows to ${purpose}`,
    `Add more rows to the file (one sample per row${table.labels ? '; only normal rows, label 0, are used for training' : ''}).`,
  );
}

/** True when the column names came from a header row (not invented for a .npy array). */
function hasNamedColumns(t: Table): boolean {
  return path.extname(t.source).toLowerCase() !== '.npy';
}

/**
 * Throw unless `other` (a file to score) has the same feature columns as `train`:
 * the same count always, and the same names in the same order when both have headers.
 */
export function checkSameColumns(train: Table, other: Table): void {
  const named = hasNamedColumns(train) && hasNamedColumns(other);
  const a = train.columns;
  const b = other.columns;
  const baseHint =
    'Score a file with the same feature columns, in the same order, as the training file' +
    (train.labelColumn ? ` (the label column "${train.labelColumn}" may be present if you name it).` : '.');

  if (a.length !== b.length) {
    let detail = '';
    let hint = baseHint;
    if (named) {
      const missing = a.filter((c) => !b.includes(c));
      const extra = b.filter((c) => !a.includes(c));
      if (missing.length) detail += `; missing: ${listCols(missing)}`;
      if (extra.length) detail += `; not in training: ${listCols(extra)}`;
      if (train.labelColumn && extra.includes(train.labelColumn) && !other.labelColumn) {
        hint = `"${train.labelColumn}" was the label column in training: name it as the label column for this file too, so it is not read as a feature.`;
      }
    }
    throw new UserError(
      `"${other.source}" has ${b.length} feature column${b.length === 1 ? '' : 's'}, but the training data ("${train.source}") has ${a.length}${detail}`,
      hint,
    );
  }
  if (!named) return;
  const diffs: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) diffs.push(`column ${i + 1} is "${b[i]}", expected "${a[i]}"`);
  }
  if (diffs.length === 0) return;
  const sameSet = a.every((c) => b.includes(c)) && b.every((c) => a.includes(c));
  const shown = diffs.slice(0, 5).join('; ') + (diffs.length > 5 ? `; … (${diffs.length - 5} more)` : '');
  throw new UserError(
    sameSet
      ? `"${other.source}" has the training columns in a different order: ${shown}`
      : `"${other.source}" has different feature columns than the training data ("${train.source}"): ${shown}`,
    sameSet ? 'Reorder the columns to match the training file (features are matched by position).' : baseHint,
  );
}

function listCols(cols: string[]): string {
  const shown = cols.slice(0, 8).map((c) => `"${c}"`);
  return shown.join(', ') + (cols.length > 8 ? `, … (${cols.length - 8} more)` : '');
}
