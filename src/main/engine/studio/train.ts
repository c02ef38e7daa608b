/**
 * Training a detector on workspace images, the same way for every front end:
 *
 * 1. the rules: the method's contrast (checkContrast), no permutation contrast for images
 *    (shuffling the columns of L2-normalized features leaves the sphere the inliers live on,
 *    so the flow would only learn to tell sphere from off-sphere), at least 20 inlier images;
 * 2. extract what is missing;
 * 3. hold out 10 % of the inlier *images* (never trained on: they calibrate the threshold),
 *    train on the rest;
 * 4. score an evaluation set: held-out inliers (negatives) + the labelled test set when one is
 *    given, else the contrast images that are not inlier images (positives; seen in training,
 *    so that AUROC is optimistic). Without anomalies, only the held-out inliers are scored.
 *
 * What the front ends show later (groups, threshold, neighbours) is derived from what is stored:
 * the run's `metrics.evaluation` holds the held-out item ids and how groups were assigned.
 */
import { holdOut } from '../data/split';
import { scoreDetector } from '../detector/scoreDetector';
import type { DetectorConfig } from '../detector/config';
import { checkContrast, methodInfo, type Method } from '../detector/methods';
import type { Detector } from '../detector/types';
import type { EvaluationInfo, ExtractorRow, ItemRow, TrainMetrics, Workspace } from '../store';
import type { TrainProgress } from '../train/trainer';
import { userError } from '../util/errors';
import { takeRows } from '../util/matrix';
import { Rng } from '../util/rng';
import { extractorSpec } from './extractors';
import { extractSelections, type ExtractProgress } from './extraction';
import { failRun, liveRunWriter, recordTrainingRun, startTrainingRun } from './recordTraining';
import { loadSelection, selectionLabel, type LoadedSelection, type Selection } from './selection';
import { runThresholdOrNull, type ThresholdInfo } from './threshold';
import { detectorConfigFor, type TrainOptions } from './trainOptions';

/** Share of inlier images held out of training to calibrate the threshold. */
export const HELD_OUT_SHARE = 0.1;
/** Fewer inlier images than this cannot make a detector worth its name. */
export const MIN_INLIER_IMAGES = 20;

export interface TrainRequest {
  name?: string;
  method: Method;
  inliers: Selection;
  /** contrast images; null for methods without contrast */
  contrast: Selection | 'permutation' | null;
  /** labelled test set: its items whose label is in `inlierLabels` count as inliers */
  test: { selection: Selection; inlierLabels: string[] } | null;
  extractor: ExtractorRow;
  options: TrainOptions;
}

export type StudioProgress =
  /** the run is recorded (status 'running'): views can follow it from now on */
  | { kind: 'run'; runId: number }
  | { kind: 'extract'; selection: string; p: ExtractProgress }
  | { kind: 'train'; p: TrainProgress };

export interface StudioHooks {
  signal?: AbortSignal;
  onProgress?: (p: StudioProgress) => void;
}

export interface TrainOutcome {
  runId: number;
  detector: Detector;
  metrics: TrainMetrics;
  /** the default threshold on the held-out inliers (null: too few of them) */
  threshold: ThresholdInfo | null;
  inlierImages: number;
  /** things the user should know (e.g. contrast given to a method that does not use it) */
  notes: string[];
}

function subset(l: LoadedSelection, idx: Int32Array): LoadedSelection {
  return {
    selection: l.selection,
    items: Array.from(idx, (i) => l.items[i]),
    features: takeRows(l.features, idx),
  };
}

/**
 * The request's rules, checked before any work starts (front ends call it to refuse a request
 * at once; trainDetector calls it too). Returns notes for the user.
 */
export function checkTrainRequest(req: Pick<TrainRequest, 'method' | 'contrast'>): string[] {
  checkContrast(req.method, req.contrast !== null);
  if (req.contrast === 'permutation')
    throw userError(
      'permutation-contrast-on-images',
      'permutation contrast shuffles the columns of a table; image features need contrast images',
      {},
    );
  const m = methodInfo(req.method);
  return !m.needsContrast && req.contrast !== null
    ? [`${m.label} does not use contrast data; ${selectionLabel(req.contrast)} is not used`]
    : [];
}

export async function trainDetector(
  ws: Workspace,
  req: TrainRequest,
  hooks: StudioHooks = {},
): Promise<TrainOutcome> {
  const notes = checkTrainRequest(req);
  const usesContrast = methodInfo(req.method).needsContrast;
  // permutation was refused by checkTrainRequest
  const contrastSel = usesContrast && req.contrast !== 'permutation' ? req.contrast : null;
  const config = detectorConfigFor(
    req.method,
    req.options,
    extractorSpec(req.extractor).l2Normalize ? 'l2' : 'standardize',
  );
  const runId = startTrainingRun(ws, {
    name: req.name,
    config,
    inliers: req.inliers,
    contrast: contrastSel,
    test: req.test?.selection ?? contrastSel,
    extractor: req.extractor,
  });
  hooks.onProgress?.({ kind: 'run', runId });
  let recording = false;
  try {
    const live = liveRunWriter(ws, runId);
    await extractSelections(
      ws,
      [req.inliers, ...(contrastSel ? [contrastSel] : []), ...(req.test ? [req.test.selection] : [])],
      req.extractor,
      {
        signal: hooks.signal,
        onProgress: (selection, p) => {
          live.extract(selection, p.done, p.total, p.imagesPerSec, p.etaSeconds);
          hooks.onProgress?.({ kind: 'extract', selection, p });
        },
      },
    );
    recording = true;
    return await trainOnLoaded(ws, req, runId, config, contrastSel, notes, hooks);
  } catch (e) {
    // recordTrainingRun ends the run itself once it has taken over
    if (!recording || ws.runs.get(runId)?.status === 'running') failRun(ws, runId, e);
    throw e;
  }
}

async function trainOnLoaded(
  ws: Workspace,
  req: TrainRequest,
  runId: number,
  config: DetectorConfig,
  contrastSel: Selection | null,
  notes: string[],
  hooks: StudioHooks,
): Promise<TrainOutcome> {
  const inl = loadSelection(ws, req.inliers, req.extractor.id, 'inliers');
  if (inl.items.length < MIN_INLIER_IMAGES)
    throw userError(
      'too-few-inliers',
      `inliers: ${selectionLabel(req.inliers)} has only ${inl.items.length} readable images; a detector needs at least ${MIN_INLIER_IMAGES} (hundreds are better)`,
      { selection: selectionLabel(req.inliers), count: inl.items.length, min: MIN_INLIER_IMAGES },
    );
  const seed = req.options.seed ?? 0;
  const split = holdOut(inl.items.length, HELD_OUT_SHARE, new Rng(seed).fork());
  const train = subset(inl, split.train);
  const held = subset(inl, split.held);
  const inlierHashes = new Set(inl.items.map((i) => i.contentHash));

  const contrast = contrastSel ? loadSelection(ws, contrastSel, req.extractor.id, 'contrast') : null;
  // evaluation set: held-out inliers + (test set | contrast images that are not inlier images)
  const evalItems: ItemRow[] = [...held.items];
  const evalRows: { m: LoadedSelection; idx: number[] }[] = [{ m: held, idx: held.items.map((_, i) => i) }];
  const isAnomaly: boolean[] = held.items.map(() => false);
  const group: string[] = held.items.map(() => '');
  let anomalySource: EvaluationInfo['anomalySource'] = 'none';
  if (req.test) {
    const t = loadSelection(ws, req.test.selection, req.extractor.id, 'test');
    const inlierLabels = new Set(req.test.inlierLabels);
    evalRows.push({ m: t, idx: t.items.map((_, i) => i) });
    for (const it of t.items) {
      evalItems.push(it);
      const anomaly = !inlierLabels.has(it.label);
      isAnomaly.push(anomaly);
      group.push(anomaly ? it.label || t.selection.datasetName : '');
    }
    anomalySource = 'test';
  } else if (contrast) {
    const idx: number[] = [];
    contrast.items.forEach((it, i) => {
      if (inlierHashes.has(it.contentHash)) return;
      idx.push(i);
      evalItems.push(it);
      isAnomaly.push(true);
      group.push(it.label || contrast.selection.datasetName);
    });
    evalRows.push({ m: contrast, idx });
    anomalySource = 'contrast';
  }
  const dim = inl.features.cols;
  const evalFeatures = new Float32Array(evalItems.length * dim);
  let row = 0;
  for (const { m, idx } of evalRows)
    for (const i of idx) evalFeatures.set(m.features.data.subarray(i * dim, (i + 1) * dim), row++ * dim);

  const evaluation: EvaluationInfo = {
    heldOutItemIds: held.items.map((i) => i.id),
    trainItemCount: train.items.length,
    anomalySource,
    inlierDatasetId: req.inliers.datasetId,
    testDatasetId: req.test?.selection.datasetId ?? null,
    testInlierLabels: req.test?.inlierLabels ?? [],
  };
  const hasBothClasses = isAnomaly.some(Boolean) && isAnomaly.some((a) => !a);
  const r = await recordTrainingRun(
    ws,
    {
      name: req.name,
      config,
      inliers: { selection: req.inliers, features: train.features },
      contrast: contrast ? { selection: contrast.selection, features: contrast.features } : null,
      extractor: req.extractor,
      test: hasBothClasses
        ? {
            selection: req.test?.selection ?? contrastSel ?? req.inliers,
            items: evalItems,
            features: { rows: evalItems.length, cols: dim, data: evalFeatures },
            isAnomaly,
            group,
          }
        : undefined,
      evaluation,
    },
    { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.({ kind: 'train', p }), runId },
  );
  if (!hasBothClasses) {
    // no anomalies to compare with: still score the held-out inliers (threshold, gallery)
    const { score } = await scoreDetector(r.detector, held.features, 'the held-out inliers');
    ws.scores.putMany(
      r.runId,
      held.items.map((it, i) => ({ itemId: it.id, score: score[i] })),
    );
  }
  return {
    runId: r.runId,
    detector: r.detector,
    metrics: r.metrics,
    threshold: runThresholdOrNull(ws, r.runId),
    inlierImages: inl.items.length,
    notes: [...r.detector.meta.notes, ...notes],
  };
}
