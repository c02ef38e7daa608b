/**
 * ROC curve of an anomaly score (positives = anomalies, higher score = more anomalous).
 *
 * For each distinct score t (descending), the classifier "anomaly iff score ≥ t" gives
 *   tpr(t) = #{pos : s ≥ t} / n_pos,   fpr(t) = #{neg : s ≥ t} / n_neg.
 * Tied scores collapse to a single point. The curve starts at (0, 0) with threshold +∞ and
 * ends at (1, 1) with the smallest score as threshold.
 */
import { argsortScores, checkScoresLabels } from './auroc';

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): RocCurve {
  const { pos, nPos, nNeg } = checkScoresLabels(scores, labels, 'ROC curve');
  const n = scores.length;
  const order = argsortScores(scores, true);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Infinity];
  let tp = 0;
  let fp = 0;
  let i = 0;
  while (i < n) {
    const v = scores[order[i]];
    while (i < n && scores[order[i]] === v) {
      if (pos[order[i]]) tp++;
      else fp++;
      i++;
    }
    fpr.push(fp / nNeg);
    tpr.push(tp / nPos);
    thresholds.push(v);
  }
  return { fpr, tpr, thresholds };
}
