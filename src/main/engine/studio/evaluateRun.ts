/**
 * Scores a labelled test set with a trained detector and records what the paper reports for it:
 * AUROC (inliers negative, anomalies positive), AUROC against each anomaly group alone (one row
 * of Table 2 when groups are classes), and the Figure 5 picks. Scores and picks go to the store.
 */
import { scoreDetector } from '../detector/scoreDetector';
import type { Detector } from '../detector/types';
import { auroc } from '../eval/auroc';
import { averagePrecision, fprAtTpr } from '../eval/decisionMetrics';
import { fig5Picks, type Pick } from '../eval/fig5Picks';
import type { ItemRow, Workspace } from '../store';
import type { Matrix } from '../util/matrix';

export interface TestSet {
  items: ItemRow[];
  features: Matrix;
  /** per item: true = anomaly (positive) */
  isAnomaly: boolean[];
  /** per item: the anomaly group it belongs to (its class, or its dataset), '' for inliers */
  group: string[];
}

export interface EvalMetrics {
  auroc: number;
  /** average precision (area under the precision-recall curve) */
  aupr: number;
  /** false-positive rate at 95 % true-positive rate */
  fprAt95Tpr: number;
  perGroup: Record<string, number>;
  nInlier: number;
  nAnomaly: number;
}

export interface PickWithItem extends Pick {
  itemId: number;
  relPath: string;
  label: string;
  datasetId: number;
}

export async function evaluateRun(
  ws: Workspace,
  runId: number,
  det: Detector,
  test: TestSet,
): Promise<{ metrics: EvalMetrics; picks: PickWithItem[]; scores: Float32Array }> {
  const { score } = await scoreDetector(det, test.features, 'the test images');
  const nAnomaly = test.isAnomaly.filter(Boolean).length;
  const perGroup: Record<string, number> = {};
  for (const g of [...new Set(test.group.filter((x, i) => test.isAnomaly[i]))].sort()) {
    const idx: number[] = [];
    for (let i = 0; i < score.length; i++) if (!test.isAnomaly[i] || test.group[i] === g) idx.push(i);
    perGroup[g] = auroc(
      idx.map((i) => score[i]),
      idx.map((i) => test.isAnomaly[i]),
    );
  }
  const metrics: EvalMetrics = {
    auroc: auroc(score, test.isAnomaly),
    aupr: averagePrecision(score, test.isAnomaly),
    fprAt95Tpr: fprAtTpr(score, test.isAnomaly, 0.95),
    perGroup,
    nInlier: score.length - nAnomaly,
    nAnomaly,
  };
  const picks = fig5Picks(score, test.isAnomaly).map((p) => {
    const it = test.items[p.index];
    return { ...p, itemId: it.id, relPath: it.relPath, label: it.label, datasetId: it.datasetId };
  });
  ws.transaction(() => {
    ws.scores.putMany(
      runId,
      test.items.map((it, i) => ({ itemId: it.id, score: score[i] })),
    );
    ws.scores.putPicks(
      runId,
      picks.map((p) => ({ group: p.group, rank: p.rank, itemId: p.itemId, score: p.score })),
    );
  });
  return { metrics, picks, scores: score };
}
