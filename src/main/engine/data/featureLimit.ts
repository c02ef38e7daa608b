/**
 * The widest feature rows CF Studio accepts: 4096 columns.
 *
 * Why 4096: a flow permutes its D columns after every coupling block as a product with a D×D
 * permutation matrix (tfjsExecutor.ts, and the ONNX Runtime training step), kept with its
 * transpose for each of the 8 blocks: 2·8·D²·4 bytes = 64·D² bytes, plus the training graph's
 * own copies. Measured on 20 rows with permutation contrast: D = 4096 trains in 6.2 GB peak memory
 * and scores in 1.9 GB; memory grows as D², so D = 8192 would need ~25 GB, more than a 24 GB
 * desktop, and the WebAssembly backend that scores flows has a 4 GB heap (12k columns failed with
 * "memory access out of bounds" after 5 GB and 45 s). The PCA baseline's D×D covariance and
 * O(D³) eigendecomposition grow the same way. Image extractors give 128–2048 features; tables
 * with more columns should be reduced (PCA, feature selection) first.
 */
import { UserError } from '../util/errors';

export const MAX_FEATURE_COLUMNS = 4096;

/** Throws a UserError when `columns` feature columns are more than CF Studio can train on. */
export function checkFeatureColumns(columns: number, source: string): void {
  if (columns <= MAX_FEATURE_COLUMNS) return;
  throw new UserError(
    `${source} has ${columns.toLocaleString('en-US')} feature columns; CF Studio takes at most ${MAX_FEATURE_COLUMNS} (a flow holds D×D matrices: training on ${MAX_FEATURE_COLUMNS} columns already takes about 6 GB of memory)`,
    `Reduce the features to at most ${MAX_FEATURE_COLUMNS} columns first (e.g. PCA or feature selection), then load the reduced table.`,
  );
}
