/**
 * Feature preprocessing stored with a detector and applied before training and scoring
 * (METHOD §1): per-column standardization with inlier statistics (tables), L2 normalization
 * onto the unit sphere (image features), or nothing.
 */
import { checkFeatureColumns } from '../data/featureLimit';
import { l2Normalize } from '../data/normalize';
import { applyStandardizer, fitStandardizer, type Standardizer } from '../data/standardize';
import { UserError } from '../util/errors';
import type { Matrix } from '../util/matrix';

export type PreprocessKind = 'standardize' | 'median-iqr' | 'l2' | 'none';

export type Preprocessing =
  | { kind: 'standardize' | 'median-iqr'; standardizer: Standardizer }
  | { kind: 'l2'; inputDim: number; columns: string[] }
  | { kind: 'none'; inputDim: number; columns: string[] };

export function fitPreprocessing(
  kind: PreprocessKind,
  x: Matrix,
  columns: string[],
  source: string,
): Preprocessing {
  // before anything sized D×D is built (tables are checked on loading; image features here)
  checkFeatureColumns(x.cols, source);
  switch (kind) {
    case 'standardize':
      return { kind, standardizer: fitStandardizer(x, columns, 'mean-std', source) };
    case 'median-iqr':
      return { kind, standardizer: fitStandardizer(x, columns, 'median-iqr', source) };
    case 'l2':
    case 'none':
      return { kind, inputDim: x.cols, columns };
  }
}

/** Number of input columns the detector expects. */
export function inputDim(p: Preprocessing): number {
  if ('standardizer' in p) return p.standardizer.inputColumns.length;
  return p.inputDim;
}

export function inputColumns(p: Preprocessing): string[] {
  if ('standardizer' in p) return p.standardizer.inputColumns;
  return p.columns;
}

/** Notices for the user (dropped constant columns …). */
export function preprocessingNotes(p: Preprocessing): string[] {
  return 'standardizer' in p ? p.standardizer.notes : [];
}

export function applyPreprocessing(p: Preprocessing, x: Matrix, source: string): Matrix {
  if (x.cols !== inputDim(p)) {
    throw new UserError(
      `${source} has ${x.cols} feature columns, the detector was trained on ${inputDim(p)}`,
      'score data with the same columns (same order) as the training data',
    );
  }
  switch (p.kind) {
    case 'standardize':
    case 'median-iqr':
      return applyStandardizer(p.standardizer, x, source);
    case 'l2':
      return l2Normalize(x);
    case 'none':
      return x;
  }
}
