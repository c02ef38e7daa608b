/**
 * MSE-ratio baseline: means μp of the inliers and μq of the contrast features;
 * score(x) = ‖x − μp‖² − ‖x − μq‖²  (close to the inliers and far from the contrast = low).
 */
import type { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import { columnMeans, rowVector, sqDistToPoint } from './mse';
import { type BaselineState, checkFitData, checkScoreData, tensorOf } from './state';

export function fitMseRatio(inliers: Matrix, contrast: Matrix): BaselineState {
  checkFitData(inliers, 'mse-ratio');
  checkFitData(contrast, 'mse-ratio', 'contrast features');
  if (contrast.cols !== inliers.cols) {
    throw new UserError(
      `mse-ratio: contrast features have ${contrast.cols} dimensions, inliers ${inliers.cols}`,
      'Extract inlier and contrast features with the same extractor.',
    );
  }
  return {
    kind: 'mse-ratio',
    params: {},
    tensors: {
      meanP: rowVector(columnMeans(inliers)),
      meanQ: rowVector(columnMeans(contrast)),
    },
  };
}

export function scoreMseRatio(state: BaselineState, x: Matrix): Float32Array {
  const mp = tensorOf(state, 'meanP', 'mse-ratio');
  const mq = tensorOf(state, 'meanQ', 'mse-ratio');
  checkScoreData(x, state, mp.cols);
  const dp = sqDistToPoint(x, mp.data);
  const dq = sqDistToPoint(x, mq.data);
  const out = new Float32Array(x.rows);
  for (let i = 0; i < x.rows; i++) out[i] = dp[i] - dq[i];
  return out;
}
