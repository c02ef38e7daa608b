/**
 * Fit/score dispatch for the classic baselines (METHOD.md §3): one entry point that maps a
 * BaselineKind to its fitX/scoreX. All scores: higher = more anomalous.
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import type { BaselineKind, BaselineState } from './state';
import { fitMse, scoreMse } from './mse';
import { fitMseRatio, scoreMseRatio } from './mseRatio';
import { fitKnn, scoreKnn, type KnnMethod } from './knn';
import { fitKde, scoreKde } from './kde';
import { fitPca, scorePca } from './pca';

export type { BaselineKind, BaselineState } from './state';

export const BASELINE_KINDS: readonly BaselineKind[] = ['mse', 'mse-ratio', 'knn', 'kde', 'pca'];

export interface BaselineOptions {
  /** knn: neighbours (default 5) */
  k?: number;
  /** knn: 'largest' (default) or 'mean' */
  method?: KnnMethod;
  /** kde: bandwidth h (default Scott's rule) */
  bandwidth?: number;
  /** pca: explained variance to keep (default 0.95) */
  varianceKept?: number;
  /** pca: exact number of components (overrides varianceKept) */
  components?: number;
}

function unknownKind(kind: unknown): UserError {
  return new UserError(`unknown baseline '${String(kind)}'`, `Use one of: ${BASELINE_KINDS.join(', ')}.`);
}

export function fitBaseline(
  kind: BaselineKind,
  inliers: Matrix,
  contrast: Matrix | null,
  opts: BaselineOptions = {},
): BaselineState {
  switch (kind) {
    case 'mse':
      return fitMse(inliers);
    case 'mse-ratio':
      if (!contrast) {
        throw new UserError(
          "baseline 'mse-ratio' needs contrast features",
          'Provide a contrast set (or permutation contrast), or use the plain mse baseline.',
        );
      }
      return fitMseRatio(inliers, contrast);
    case 'knn':
      return fitKnn(inliers, { k: opts.k, method: opts.method });
    case 'kde':
      return fitKde(inliers, { bandwidth: opts.bandwidth });
    case 'pca':
      return fitPca(inliers, { varianceKept: opts.varianceKept, components: opts.components });
    default:
      throw unknownKind(kind);
  }
}

export function scoreBaseline(state: BaselineState, x: Matrix): Float32Array {
  switch (state.kind) {
    case 'mse':
      return scoreMse(state, x);
    case 'mse-ratio':
      return scoreMseRatio(state, x);
    case 'knn':
      return scoreKnn(state, x);
    case 'kde':
      return scoreKde(state, x);
    case 'pca':
      return scorePca(state, x);
    default:
      throw unknownKind((state as { kind: unknown }).kind);
  }
}
