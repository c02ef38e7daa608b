/**
 * What a detector thinks is normal (the paper's conclusion: samples of a CF model approximate the
 * positive difference p − q of the inlier and contrast densities). Latent points z ~ N(0, T²·I)
 * go through the flow's exact inverse, x = f⁻¹(z); T < 1 keeps them in the bulk of the density
 * (T = 1 samples the model as it is, tails included). Each sample is shown by its nearest real
 * images (cosine distance in the detector's feature space, after its preprocessing) among the
 * training inliers and the contrast images: if the flow learned the inliers, its samples land
 * next to inliers far more often than the inlier share of that pool.
 */
import { applyPreprocessing } from '../detector/preprocess';
import { scoreDetector } from '../detector/scoreDetector';
import { nearestByCosine, normalizeRows } from '../eval/nearestNeighbours';
import { flowInverse, flowLogProb } from '../flow/flowModel';
import { initTfjs } from '../backend/tfjsBackend';
import type { ItemRow, Workspace } from '../store';
import { userError } from '../util/errors';
import { takeRows, vstack, type Matrix } from '../util/matrix';
import { Rng } from '../util/rng';
import { getRun, runDetector } from './detectorOfRun';
import { loadSelection, selectionOf } from './selection';

export const DEFAULT_PROTOTYPES = 12;
/**
 * T = 0.4: the flows are trained on features plus noise of ~1.5–1.9× their spread (the
 * inlier-count rule), so samples at T = 0.6 carry that noise and land below the clean held-out
 * inliers (CIFAR deer: log p 122–133 vs median 135); at T = 0.4 all 16 of 16 were above it, their
 * nearest images still 100 % inliers (chance 18 %).
 */
export const DEFAULT_TEMPERATURE = 0.4;

export interface Prototype {
  /** log p of the sample under the detector's inlier flow */
  logProb: number;
  nearest: { itemId: number; relPath: string; role: 'inlier' | 'contrast'; distance: number }[];
}

export interface PrototypesResult {
  runId: number;
  temperature: number;
  prototypes: Prototype[];
  /** median log p of the held-out inliers (the samples should sit above it) */
  heldOutMedianLogProb: number | null;
  /** share of samples whose nearest image is an inlier, and that share by chance */
  nearestInlierShare: number;
  chance: number;
}

export async function runPrototypes(
  ws: Workspace,
  runId: number,
  o: { count?: number; temperature?: number; seed?: number; neighbours?: number } = {},
): Promise<PrototypesResult> {
  const run = getRun(ws, runId);
  const { detector, detectorRunId } = runDetector(ws, runId);
  const owner = getRun(ws, detectorRunId);
  const flow = detector.flows.find((f) => f.role === 'inlier');
  if (!flow || owner.kind !== 'train' || owner.extractorId === null || !owner.selections.inliers)
    throw userError(
      'invalid-input',
      `run ${run.id}: prototypes are drawn from a flow trained on workspace images; ${
        flow ? 'its training images are not in this workspace' : `${detector.method} has no flow`
      }`,
      {},
    );
  const count = o.count ?? DEFAULT_PROTOTYPES;
  const temperature = o.temperature ?? DEFAULT_TEMPERATURE;
  const k = o.neighbours ?? 3;
  await initTfjs();

  // the pool of real images, in the detector's feature space
  const held = new Set(owner.metrics?.evaluation?.heldOutItemIds ?? []);
  const pool: { items: ItemRow[]; role: 'inlier' | 'contrast'; features: Matrix }[] = [];
  const refs = [
    ['inlier', owner.selections.inliers],
    ['contrast', owner.selections.contrast],
  ] as const;
  for (const [role, ref] of refs) {
    if (!ref || ref === 'permutation' || ref.datasetId === null) continue;
    const l = loadSelection(
      ws,
      selectionOf(ws, { datasetId: ref.datasetId, labels: ref.labels }, role),
      owner.extractorId,
      role,
    );
    pool.push({
      items: l.items,
      role,
      features: applyPreprocessing(detector.preprocessing, l.features, role),
    });
  }
  const inlierHashes = new Set(pool.find((p) => p.role === 'inlier')?.items.map((i) => i.contentHash));
  const items: { item: ItemRow; role: 'inlier' | 'contrast' }[] = [];
  const rows: Matrix[] = [];
  for (const p of pool) {
    const keep: number[] = [];
    p.items.forEach((it, i) => {
      // held-out inliers were never trained on; a contrast image that is also an inlier counts once
      if (held.has(it.id) || (p.role === 'contrast' && inlierHashes.has(it.contentHash))) return;
      keep.push(i);
      items.push({ item: it, role: p.role });
    });
    rows.push(takeRows(p.features, keep));
  }
  const poolMatrix = vstack(rows);
  normalizeRows(poolMatrix.data, poolMatrix.cols);

  const rng = new Rng(o.seed ?? 0);
  const z: Matrix = { rows: count, cols: flow.spec.dim, data: new Float32Array(count * flow.spec.dim) };
  for (let i = 0; i < z.data.length; i++) z.data[i] = temperature * rng.normal();
  const x = flowInverse(flow, z);
  const logProb = flowLogProb(flow, x);
  const unit = Float32Array.from(x.data);
  normalizeRows(unit, x.cols);
  const prototypes: Prototype[] = [];
  for (let s = 0; s < count; s++) {
    const q = unit.subarray(s * x.cols, (s + 1) * x.cols);
    prototypes.push({
      logProb: logProb[s],
      nearest: nearestByCosine(q, poolMatrix.data, poolMatrix.cols, k).map(({ index, distance }) => ({
        itemId: items[index].item.id,
        relPath: items[index].item.relPath,
        role: items[index].role,
        distance,
      })),
    });
  }

  let heldOutMedianLogProb: number | null = null;
  const heldItems = ws.items.byIds([...held]).filter((i) => i.contentHash);
  if (heldItems.length) {
    const f = ws.features.load(
      owner.extractorId,
      heldItems.map((i) => i.contentHash!),
    );
    const { logProb: lp } = await scoreDetector(detector, {
      rows: heldItems.length,
      cols: f.dim,
      data: f.matrix,
    });
    if (lp) {
      const sorted = Array.from(lp).sort((a, b) => a - b);
      heldOutMedianLogProb = sorted[Math.floor(sorted.length / 2)];
    }
  }
  const inlierCount = items.filter((i) => i.role === 'inlier').length;
  return {
    runId,
    temperature,
    prototypes,
    heldOutMedianLogProb,
    nearestInlierShare: prototypes.filter((p) => p.nearest[0]?.role === 'inlier').length / count,
    chance: inlierCount / items.length,
  };
}
