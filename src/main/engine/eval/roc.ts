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

/**
 * The cumulative counts behind every curve of a score: for each distinct score t (descending),
 * tp = #{pos : s ≥ t} and fp = #{neg : s ≥ t} (ties counted together, as one threshold).
 */
export interface ThresholdCounts {
  thresholds: number[];
  tp: number[];
  fp: number[];
  nPos: number;
  nNeg: number;
}

export function thresholdCounts(
  scores: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  what: string,
): ThresholdCounts {
  const { pos, nPos, nNeg } = checkScoresLabels(scores, labels, what);
  const n = scores.length;
  const order = argsortScores(scores, true);
  const out: ThresholdCounts = { thresholds: [], tp: [], fp: [], nPos, nNeg };
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
    out.thresholds.push(v);
    out.tp.push(tp);
    out.fp.push(fp);
  }
  return out;
}

export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): RocCurve {
  const c = thresholdCounts(scores, labels, 'ROC curve');
  return {
    fpr: [0, ...c.fp.map((f) => f / c.nNeg)],
    tpr: [0, ...c.tp.map((t) => t / c.nPos)],
    thresholds: [Infinity, ...c.thresholds],
  };
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
