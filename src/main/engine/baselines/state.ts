/**
 * The serializable state of a fitted classic baseline detector (MSE, MSE-ratio, KNN, KDE,
 * PCA; METHOD.md §3): a kind, scalar parameters and named float matrices. Scores are always
 * "higher = more anomalous". Also the input checks the baselines share.
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';

export type BaselineKind = 'mse' | 'mse-ratio' | 'knn' | 'kde' | 'pca';

export interface BaselineState {
  kind: BaselineKind;
  params: Record<string, number>;
  tensors: Record<string, Matrix>;
}

/** Training features must be non-empty and finite. */
export function checkFitData(m: Matrix, kind: string, what = 'inlier features'): void {
  if (m.rows < 1 || m.cols < 1) {
    throw new UserError(
      `${kind}: ${what} are empty (${m.rows}×${m.cols})`,
      'Fit the baseline on at least one feature row.',
    );
  }
  const d = m.data;
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i])) {
      const r = Math.floor(i / m.cols);
      throw new UserError(
        `${kind}: ${what} contain a non-finite value (row ${r}, column ${i - r * m.cols})`,
        'Remove or impute NaN/Inf features before fitting.',
      );
    }
  }
}

/** Features to score must have the dimension the baseline was fitted on. */
export function checkScoreData(x: Matrix, state: BaselineState, dim: number): void {
  if (x.cols !== dim) {
    throw new UserError(
      `${state.kind}: features have ${x.cols} dimensions, the baseline was fitted on ${dim}`,
      'Score features produced by the same extractor the baseline was fitted on.',
    );
  }
}

/** Look up a tensor of a state, with a clear error for a corrupt/mismatched state. */
export function tensorOf(state: BaselineState, name: string, kind: BaselineKind): Matrix {
  if (state.kind !== kind) {
    throw new UserError(`baseline state is '${state.kind}', expected '${kind}'`);
  }
  const t = state.tensors[name];
  if (!t) throw new UserError(`${kind} baseline state is missing its '${name}' tensor`);
  return t;
}
