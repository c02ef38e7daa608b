/**
 * The desktop app's "new detector" and "score a folder" work, on top of trainRun/evaluateRun:
 *
 * - train: extract what is missing, hold out 10 % of the inlier *images* (never trained on,
 *   they calibrate the threshold), train on the rest, then score an evaluation set:
 *     held-out inliers (negatives) + the test set when one is given, else the contrast images
 *     that are not inlier images (positives; seen in training, so that AUROC is optimistic).
 * - score: a dataset scored with a trained run's detector, recorded as a child run.
 *
 * What the app shows later (groups, threshold, neighbours) is derived from what is stored
 * here: `metrics.evaluation` holds the held-out item ids and how groups were assigned.
 */
import { detectorOfRun } from './importDetector';
import { runExtractJob } from '../jobs/runExtractJob';
import { buildConfigForImages, type ImageRunOptions } from './imageRunConfig';
import { scoreDetector } from '../detector/scoreDetector';
import { CONTRAST_METHODS, type Method } from '../detector/methods';
import { holdOut } from '../data/split';
import type { ExtractProgress } from '../jobs/extractFeatures';
import type { ExtractorRow, ItemRow, Workspace } from '../store';
import type { TrainProgress } from '../train/trainer';
import { CancelledError, UserError } from '../util/errors';
import { takeRows } from '../util/matrix';
import { Rng } from '../util/rng';
import { extractorSpec } from './extractors';
import { extractionTargets, loadSelection, selectionLabel, type LoadedSelection, type Selection } from './selection';
import { trainRun } from './trainRun';

/** Share of inlier images held out of training to calibrate the threshold. */
export const APP_HELD_OUT_SHARE = 0.1;

export interface DetectorRunRequest extends ImageRunOptions {
  name?: string;
  method: Method;
  inliers: Selection;
  contrast: Selection | 'permutation' | null;
  /** labelled test set: its items whose label is in `inlierLabels` count as inliers */
  test: { selection: Selection; inlierLabels: string[] } | null;
  extractor: ExtractorRow;
}

/** Stored in the run's metrics: how the evaluation set was made. */
export interface EvaluationInfo {
  heldOutItemIds: number[];
  trainItemCount: number;
  /** 'test' = a labelled test set; 'contrast' = the contrast images (seen in training) */
  anomalySource: 'test' | 'contrast' | 'none';
  inlierDatasetId: number;
  testDatasetId: number | null;
  testInlierLabels: string[];
}

export type DetectorRunProgress =
  { kind: 'extract'; name: string; p: ExtractProgress } | { kind: 'train'; p: TrainProgress };

export interface DetectorRunHooks {
  signal?: AbortSignal;
  onProgress?: (p: DetectorRunProgress) => void;
}

/** Extracts the missing features of each selection (each dataset once). */
export async function ensureSelectionsExtracted(
  ws: Workspace,
  sels: Selection[],
  extractor: ExtractorRow,
  hooks: DetectorRunHooks,
): Promise<void> {
  for (const s of extractionTargets(sels)) {
    const name = selectionLabel(s);
    if (hooks.signal?.aborted) throw new CancelledError(`extraction of ${name}`);
    await runExtractJob(
      {
        workspaceFile: ws.file,
        datasetId: s.datasetId,
        labels: s.labels,
        extractorId: extractor.id,
        modelFile: extractor.path,
        spec: extractorSpec(extractor),
      },
      { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.({ kind: 'extract', name, p }) },
    );
  }
}

function subset(l: LoadedSelection, idx: Int32Array): LoadedSelection {
  return {
    selection: l.selection,
    items: Array.from(idx, (i) => l.items[i]),
    features: takeRows(l.features, idx),
  };
}

/** Trains a detector the way the app does (see the file comment); returns the run id. */
export async function trainDetectorRun(
  ws: Workspace,
  req: DetectorRunRequest,
  hooks: DetectorRunHooks = {},
): Promise<number> {
  const usesContrast = CONTRAST_METHODS.includes(req.method);
  if (usesContrast && req.contrast === null)
    throw new UserError(
      `${req.method.toUpperCase()} needs contrast data`,
      'pick a broad contrast folder (or a workspace dataset), or choose a method without contrast (Flow, KNN, …)',
    );
  const contrastSel = usesContrast && req.contrast !== 'permutation' ? req.contrast : null;
  const sels = [
    req.inliers,
    ...(contrastSel ? [contrastSel] : []),
    ...(req.test ? [req.test.selection] : []),
  ];
  await ensureSelectionsExtracted(ws, sels, req.extractor, hooks);

  const inl = loadSelection(ws, req.inliers, req.extractor.id, 'inliers');
  if (inl.items.length < 20)
    throw new UserError(
      `inliers: ${selectionLabel(req.inliers)} has only ${inl.items.length} readable images`,
      'a detector needs at least 20 inlier images (hundreds are better)',
    );
  const split = holdOut(inl.items.length, APP_HELD_OUT_SHARE, new Rng(req.seed ?? 0).fork());
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

  const config = buildConfigForImages(req, req.extractor);
  const evaluation: EvaluationInfo = {
    heldOutItemIds: held.items.map((i) => i.id),
    trainItemCount: train.items.length,
    anomalySource,
    inlierDatasetId: req.inliers.datasetId,
    testDatasetId: req.test?.selection.datasetId ?? null,
    testInlierLabels: req.test?.inlierLabels ?? [],
  };
  const hasBothClasses = isAnomaly.some(Boolean) && isAnomaly.some((a) => !a);
  const r = await trainRun(
    ws,
    {
      name: req.name,
      config,
      inliers: { selection: req.inliers, features: train.features },
      contrast:
        usesContrast && req.contrast === 'permutation'
          ? 'permutation'
          : contrast
            ? { selection: contrast.selection, features: contrast.features }
            : null,
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
      extraMetrics: { evaluation },
    },
    { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.({ kind: 'train', p }) },
  );
  if (!hasBothClasses) {
    // no anomalies to compare with: still score the held-out inliers (threshold, gallery)
    const { score } = await scoreDetector(r.detector, held.features, 'the held-out inliers');
    ws.scores.putMany(
      r.runId,
      held.items.map((it, i) => ({ itemId: it.id, score: score[i] })),
    );
  }
  return r.runId;
}

/** Scores a dataset with run `parentRunId`'s detector into a new child run; returns its id. */
export async function scoreDatasetRun(
  ws: Workspace,
  parentRunId: number,
  selection: Selection,
  hooks: DetectorRunHooks = {},
): Promise<number> {
  const parent = ws.runs.get(parentRunId);
  if (!parent) throw new UserError(`run ${parentRunId} does not exist`, 'pick a run from the runs list');
  const { detector } = detectorOfRun(ws, parentRunId);
  const meta = detector.meta.extractor;
  const extractor = meta ? ws.extractors.byHash(meta.sha256) : undefined;
  if (!meta || !extractor)
    throw new UserError(
      `run ${parentRunId}'s detector needs the extractor ${meta ? `"${meta.name}"` : '(none: it was trained on a table)'}, which this workspace does not have`,
      'import that extractor model first',
    );
  await ensureSelectionsExtracted(ws, [selection], extractor, hooks);
  const data = loadSelection(ws, selection, extractor.id, 'input');
  const parentMetrics = (parent.metrics ?? {}) as Record<string, unknown>;
  const runId = ws.runs.create({
    name: `${parent.name ?? `run ${parentRunId}`} → ${selectionLabel(selection)}`,
    method: parent.method,
    config: { kind: 'score', parentRunId },
    inlierDatasetId: parent.inlierDatasetId,
    contrastDatasetId: null,
    testDatasetId: selection.datasetId,
    extractorId: extractor.id,
    selection: { scored: selectionLabel(selection) },
    parentRunId,
  });
  ws.runs.start(runId);
  const t0 = performance.now();
  try {
    const { score } = await scoreDetector(detector, data.features, selectionLabel(selection));
    const scoreSeconds = (performance.now() - t0) / 1000;
    ws.transaction(() =>
      ws.scores.putMany(
        runId,
        data.items.map((it, i) => ({ itemId: it.id, score: score[i] })),
      ),
    );
    ws.runs.finish(runId, {
      status: 'done',
      backend: parent.backend ?? undefined,
      metrics: { kind: 'score', threshold: parentMetrics.threshold ?? null, scored: score.length },
      timings: { scoreSeconds },
    });
    return runId;
  } catch (e) {
    ws.runs.finish(runId, {
      status: e instanceof CancelledError ? 'cancelled' : 'failed',
      error: (e as Error).message,
    });
    throw e;
  }
}
