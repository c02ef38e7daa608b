/**
 * A run's scored items ranked, most anomalous first, each with its group:
 *   'inliers (held-out)'           inlier images never trained on (they set the threshold)
 *   'test: LABEL' / '… (inlier)'   a labelled test set's items (anomalies unless their label is an inlier label)
 *   'contrast: LABEL'              contrast images used as anomalies (seen in training)
 *   LABEL or dataset name          anything else (a scored folder)
 * Built from the stored scores and the run's evaluation info; cached once the run is done.
 */
import type { EvaluationInfo, FeedbackMark, RunRow, Workspace } from '../store';
import { getRun } from './detectorOfRun';
import { cachedRunView } from './runViewCache';

export interface RankedItem {
  itemId: number;
  datasetId: number;
  /** 1 = highest score */
  rank: number;
  score: number;
  relPath: string;
  label: string;
  group: string;
  /** counts as an anomaly in the run's evaluation */
  anomaly: boolean;
  heldOut: boolean;
  /** the analyst's mark on this image in this run's list */
  mark: FeedbackMark | null;
}

export interface RankedRun {
  run: RunRow;
  items: RankedItem[];
  /** scores of the held-out inliers (the threshold is picked on them) */
  heldOutScores: number[];
  evaluation: EvaluationInfo | null;
}

export const HELD_OUT_GROUP = 'inliers (held-out)';

export function rankedRun(ws: Workspace, id: number): RankedRun {
  const run = getRun(ws, id);
  return cachedRunView(ws, id, 'ranked', run.status === 'done', () => buildRanked(ws, run));
}

function buildRanked(ws: Workspace, run: RunRow): RankedRun {
  const evaluation = run.kind === 'train' ? (run.metrics?.evaluation ?? null) : null;
  const scores = ws.scores.list(run.id);
  const byId = new Map(ws.items.byIds(scores.map((s) => s.itemId)).map((i) => [i.id, i]));
  const names = new Map(ws.datasets.list().map((d) => [d.id, d.name]));
  const heldOut = new Set(evaluation?.heldOutItemIds ?? []);
  const inlierLabels = new Set(evaluation?.testInlierLabels ?? []);
  const marks = new Map(ws.feedback.list(run.id).map((m) => [m.itemId, m.mark]));
  const items: RankedItem[] = [];
  const heldOutScores: number[] = [];
  for (const s of scores) {
    const it = byId.get(s.itemId);
    if (!it) continue;
    const dsName = names.get(it.datasetId) ?? `dataset ${it.datasetId}`;
    let group: string;
    let anomaly = false;
    const isHeld = heldOut.has(it.id);
    if (isHeld) {
      group = HELD_OUT_GROUP;
      heldOutScores.push(s.score);
    } else if (evaluation?.anomalySource === 'test' && it.datasetId === evaluation.testDatasetId) {
      anomaly = !inlierLabels.has(it.label);
      group = `test: ${it.label || dsName}${anomaly ? '' : ' (inlier)'}`;
    } else if (evaluation?.anomalySource === 'contrast') {
      anomaly = true;
      group = `contrast: ${it.label || dsName}`;
    } else {
      group = it.label || dsName;
    }
    items.push({
      itemId: it.id,
      datasetId: it.datasetId,
      rank: 0,
      score: s.score,
      relPath: it.relPath,
      label: it.label,
      group,
      anomaly,
      heldOut: isHeld,
      mark: marks.get(it.id) ?? null,
    });
  }
  items.sort((a, b) => b.score - a.score || a.itemId - b.itemId);
  items.forEach((it, i) => (it.rank = i + 1));
  return { run, items, heldOutScores, evaluation };
}
