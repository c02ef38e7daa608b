/**
 * One scored item in detail: its score, rank and flag, its file, and its nearest training
 * inliers in feature space (cosine distance on the extractor's output): what the detector
 * compared it with. Held-out inliers are never neighbours (they were not trained on).
 */
import path from 'node:path';
import { nearestByCosine, normalizeRows } from '../eval/nearestNeighbours';
import type { ItemRow, Workspace } from '../store';
import { userError } from '../util/errors';
import { detectorRunOf, getRun } from './detectorOfRun';
import { rankedRun } from './rankedRun';
import { cachedRunView } from './runViewCache';
import { scoredItem, type ScoredItem } from './runs';
import { runThresholdOrNull } from './threshold';

export interface ItemScoreDetail extends ScoredItem {
  /** absolute path of the image file */
  path: string;
  /** nearest training inliers in feature space (cosine distance), closest first */
  neighbors: { itemId: number; relPath: string; distance: number }[];
}

interface TrainingInliers {
  items: ItemRow[];
  /** unit rows, row i = items[i] */
  vectors: Float32Array;
  dim: number;
  extractorId: number;
}

/** The inlier images the detector of `runId` was trained on, with unit feature vectors. */
function trainingInliers(ws: Workspace, runId: number): TrainingInliers | null {
  const owner = detectorRunOf(getRun(ws, runId));
  if (owner === null) return null;
  const run = getRun(ws, owner);
  return cachedRunView(ws, owner, 'training-inliers', run.status === 'done', () => {
    const sel = run.selections.inliers;
    if (run.kind !== 'train' || !sel || sel.datasetId === null || run.extractorId === null) return null;
    const held = new Set(run.metrics?.evaluation?.heldOutItemIds ?? []);
    const items = ws.items
      .list(sel.datasetId, { status: 'ok', labels: sel.labels ?? undefined })
      .filter((i) => i.contentHash && !held.has(i.id));
    const { dim, matrix } = ws.features.load(
      run.extractorId,
      items.map((i) => i.contentHash!),
    );
    normalizeRows(matrix, dim);
    return { items, vectors: matrix, dim, extractorId: run.extractorId };
  });
}

export function itemDetail(ws: Workspace, runId: number, itemId: number, k: number): ItemScoreDetail {
  const view = rankedRun(ws, runId);
  const scored = view.items.find((i) => i.itemId === itemId);
  if (!scored)
    throw userError('item-not-scored', `item ${itemId} was not scored by run ${runId}`, { runId, itemId });
  const item = ws.items.get(itemId)!;
  const ds = ws.datasets.get(item.datasetId);
  const threshold = runThresholdOrNull(ws, runId)?.threshold ?? null;
  let neighbors: ItemScoreDetail['neighbors'] = [];
  const train = k > 0 && item.contentHash ? trainingInliers(ws, runId) : null;
  if (train) {
    const { matrix } = ws.features.load(train.extractorId, [item.contentHash!]);
    normalizeRows(matrix, train.dim);
    neighbors = nearestByCosine(
      matrix,
      train.vectors,
      train.dim,
      k,
      (i) => train.items[i].contentHash === item.contentHash,
    ).map(({ index, distance }) => ({
      itemId: train.items[index].id,
      relPath: train.items[index].relPath,
      distance,
    }));
  }
  return {
    ...scoredItem(scored, threshold),
    path: ds ? path.join(ds.root, item.relPath) : item.relPath,
    neighbors,
  };
}
