/**
 * The figures the field reports beside AUROC, for an anomaly score (higher = more anomalous,
 * positives = anomalies):
 *
 *   AUPR (average precision)   AP = Σ_k (R_k − R_{k−1}) · P_k over the distinct score thresholds,
 *                              descending (scikit-learn's average_precision_score; ties are one step)
 *   FPR at 95 % TPR            the smallest false-positive rate among thresholds whose TPR ≥ 0.95
 *   at a threshold t           flagged = score ≥ t; precision = TP/(TP+FP), recall = TP/P,
 *                              F1 = 2·P·R/(P+R) (0 when nothing is flagged or found)
 */
import { checkScoresLabels } from './auroc';
import { thresholdCounts } from './roc';

export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const { tp, fp, nPos } = thresholdCounts(scores, labels, 'AUPR');
  let ap = 0;
  for (let k = 0; k < tp.length; k++)
    ap += ((tp[k] - (k > 0 ? tp[k - 1] : 0)) / nPos) * (tp[k] / (tp[k] + fp[k]));
  return ap;
}

export function fprAtTpr(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>, tpr = 0.95): number {
  const { tp, fp, nPos, nNeg } = thresholdCounts(scores, labels, 'FPR at TPR');
  for (let k = 0; k < tp.length; k++) if (tp[k] / nPos >= tpr - 1e-12) return fp[k] / nNeg;
  return 1;
}

export interface ThresholdMetrics {
  precision: number;
  recall: number;
  f1: number;
  /** false-positive rate of the inliers at the threshold */
  fpr: number;
  flagged: number;
}

export function metricsAtThreshold(
  scores: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  threshold: number,
): ThresholdMetrics {
  const { pos, nPos, nNeg } = checkScoresLabels(scores, labels, 'F1');
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < scores.length; i++)
    if (scores[i] >= threshold) {
      if (pos[i]) tp++;
      else fp++;
    }
  const precision = tp + fp > 0 ? tp / (tp + fp) : 0;
  const recall = tp / nPos;
  return {
    precision,
    recall,
    f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0,
    fpr: fp / nNeg,
    flagged: tp + fp,
  };
}
