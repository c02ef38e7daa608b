/** AUPR, FPR at 95 % TPR and precision/recall/F1 at a threshold, against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { averagePrecision, fprAtTpr, metricsAtThreshold } from '../../src/main/engine/eval/decisionMetrics';

describe('decision metrics', () => {
  it('average precision matches scikit-learn’s example and the definition with ties', () => {
    // sklearn.metrics.average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) = 0.8333…
    expect(averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(5 / 6, 12);
    // perfect ranking → 1; all anomalies last → the anomaly share at full recall
    expect(averagePrecision([5, 4, 1, 0], [1, 1, 0, 0])).toBe(1);
    expect(averagePrecision([0, 1, 4, 5], [1, 1, 0, 0])).toBeCloseTo(0.5 * (1 / 3) + 0.5 * (2 / 4), 12);
    // one tie between a positive and a negative is one step: recall 1/1 at precision 1/2
    expect(averagePrecision([1, 1], [1, 0])).toBe(0.5);
  });

  it('FPR at 95 % TPR is the smallest FPR whose TPR reaches 0.95', () => {
    const pos = Array.from({ length: 20 }, (_, i) => 100 - i); // 100 … 81
    const neg = [90.5, 85.5, 10, 9, 8, 7, 6, 5, 4, 3]; // two negatives among the top 19 positives
    const scores = [...pos, ...neg];
    const labels = [...pos.map(() => 1), ...neg.map(() => 0)];
    // 19 of 20 positives (TPR 0.95) are found above 81.5: 2 negatives there → FPR 2/10
    expect(fprAtTpr(scores, labels, 0.95)).toBeCloseTo(0.2, 12);
    expect(fprAtTpr(scores, labels, 1)).toBeCloseTo(0.2, 12);
    // the top 10 positives (100 … 91) pass no negative; 12 of them (down to 89) pass 90.5
    expect(fprAtTpr(scores, labels, 0.5)).toBe(0);
    expect(fprAtTpr(scores, labels, 0.6)).toBeCloseTo(0.1, 12);
  });

  it('precision, recall, F1 and FPR at a threshold (flagged = score ≥ t)', () => {
    const m = metricsAtThreshold([9, 8, 7, 6, 5, 1], [1, 0, 1, 1, 0, 0], 6);
    expect(m).toEqual({ precision: 3 / 4, recall: 1, f1: (2 * 0.75) / 1.75, fpr: 1 / 3, flagged: 4 });
    expect(metricsAtThreshold([1, 2], [1, 0], 10)).toEqual({
      precision: 0,
      recall: 0,
      f1: 0,
      fpr: 0,
      flagged: 0,
    });
  });
});
