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

/** At most about `points` points of a curve (every k-th point, then (1, 1)), for drawing. */
export function thinRoc(
  c: { fpr: number[]; tpr: number[] },
  points: number,
): { fpr: number[]; tpr: number[] } {
  const step = Math.max(1, Math.ceil(c.fpr.length / points));
  const fpr: number[] = [];
  const tpr: number[] = [];
  for (let i = 0; i < c.fpr.length; i += step) {
    fpr.push(c.fpr[i]);
    tpr.push(c.tpr[i]);
  }
  fpr.push(1);
  tpr.push(1);
  return { fpr, tpr };
}
