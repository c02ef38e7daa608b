/**
 * Retraining a detector with the analyst's feedback, into a new run:
 *
 * - marked normals (false alarms) join the training inliers (and leave the contrast set);
 * - confirmed anomalies join the contrast set as their own group: CF lowers the density on its
 *   contrast, which is exactly where known anomalies belong. A few confirmed images among
 *   thousands of contrast images would rarely be drawn, so each is repeated until they make up
 *   `anomalyShare` of the contrast rows (training noise keeps the copies apart). A confirmed
 *   anomaly found among the inliers (or the held-out inliers) leaves them.
 * - everything else is the parent's: method, settings, seed, held-out inliers (so the threshold
 *   is picked on the same images) and evaluation set, minus the marked images (they are training
 *   data now; scoring them would not be an honest figure).
 *
 * The new run records a before/after comparison on that common evaluation set: the flagged count
 * at the parent's target false-positive rate, AUROC overall and per group, and for every marked
 * image its score and flag before and after.
 */
import { scoreDetector } from '../detector/scoreDetector';
import { methodInfo } from '../detector/methods';
import { auroc } from '../eval/auroc';
import { countFlagged, thresholdFor } from '../eval/threshold';
import type { ItemRow, RetrainComparison, SelectionRef, TrainMetrics, Workspace } from '../store';
import { userError } from '../util/errors';
import { vstack, takeRows, type Matrix } from '../util/matrix';
import { detectorRunOf, getRun, runDetector } from './detectorOfRun';
import { extractSelections } from './extraction';
import { feedbackForDetector } from './feedback';
import { rankedRun } from './rankedRun';
import { failRun, liveRunWriter, recordTrainingRun, startTrainingRun } from './recordTraining';
import { loadSelection, selectionOf, type Selection } from './selection';
import { DEFAULT_TARGET_FPR, runThreshold } from './threshold';
import type { StudioHooks } from './train';

/** Default share of the contrast rows made of confirmed anomalies (see the file comment). */
export const DEFAULT_ANOMALY_SHARE = 0.25;

export interface RetrainRequest {
  /** a run whose detector is retrained (a score run stands for its detector run) */
  runId: number;
  /** item ids marked normal / anomalous, in addition to (and overriding) the stored marks */
  normal?: number[];
  anomalous?: number[];
  /** use the marks stored on the run and its score runs (default true) */
  storedMarks?: boolean;
  anomalyShare?: number;
  name?: string;
}

export interface RetrainOutcome {
  runId: number;
  fromRunId: number;
  comparison: RetrainComparison;
  notes: string[];
  metrics: TrainMetrics;
}

function refSelection(
  ws: Workspace,
  ref: SelectionRef | 'permutation' | undefined,
  role: string,
): Selection | null {
  if (!ref || ref === 'permutation') return null;
  if (ref.datasetId === null)
    throw userError('dataset-missing', `${role}: dataset "${ref.datasetName}" was removed`, {
      datasetId: -1,
      role,
    });
  return selectionOf(ws, { datasetId: ref.datasetId, labels: ref.labels }, role);
}

/** Rows of `m` for the items whose id is in `ids`, in `items` order. */
function rowsOf(
  items: ItemRow[],
  m: Matrix,
  keep: (it: ItemRow) => boolean,
): { items: ItemRow[]; features: Matrix } {
  const idx: number[] = [];
  items.forEach((it, i) => keep(it) && idx.push(i));
  return { items: idx.map((i) => items[i]), features: takeRows(m, idx) };
}

export async function retrainWithFeedback(
  ws: Workspace,
  req: RetrainRequest,
  hooks: StudioHooks = {},
): Promise<RetrainOutcome> {
  const asked = getRun(ws, req.runId);
  const parentId = detectorRunOf(asked);
  const parent = parentId === null ? null : getRun(ws, parentId);
  if (!parent || parent.kind !== 'train' || !parent.metrics?.evaluation || parent.status !== 'done')
    throw userError(
      'run-not-retrainable',
      `run ${req.runId} cannot be retrained: ${
        parent?.kind === 'import'
          ? 'it is an imported detector, whose training images are not in this workspace'
          : !parent || parent.kind !== 'train'
            ? 'it has no detector of its own'
            : parent.status !== 'done'
              ? `its training is ${parent.status}`
              : 'it was trained without held-out inliers (before this version)'
      }`,
      { runId: req.runId },
    );
  const evaluation = parent.metrics.evaluation;
  const stored =
    req.storedMarks === false
      ? { normal: [], anomaly: [], fromRuns: [] }
      : feedbackForDetector(ws, parent.id);
  const explicitAnomaly = new Set(req.anomalous ?? []);
  const explicitNormal = new Set(req.normal ?? []);
  const anomalyIds = new Set([...stored.anomaly.filter((i) => !explicitNormal.has(i)), ...explicitAnomaly]);
  const normalIds = new Set([...stored.normal.filter((i) => !explicitAnomaly.has(i)), ...explicitNormal]);
  if (anomalyIds.size + normalIds.size === 0)
    throw userError('no-feedback', `run ${parent.id} has no marked images to retrain with`, {
      runId: parent.id,
    });
  const marked = ws.items.byIds([...normalIds, ...anomalyIds]);
  if (marked.length !== normalIds.size + anomalyIds.size)
    throw userError(
      'invalid-input',
      'some marked images are no longer in the workspace',
      {},
      'mark them again',
    );

  const extractorId = parent.extractorId;
  const extractor = extractorId === null ? undefined : ws.extractors.get(extractorId);
  if (!extractor)
    throw userError('run-not-retrainable', `run ${parent.id}'s extractor is no longer in the workspace`, {
      runId: parent.id,
    });
  const info = methodInfo(parent.config.method as never);
  const notes: string[] = [];
  if (anomalyIds.size && !info.needsContrast)
    notes.push(`${info.label} has no contrast term: the ${anomalyIds.size} confirmed anomalies are not used`);

  const inlierSel = refSelection(ws, parent.selections.inliers, 'inliers')!;
  const contrastSel = refSelection(ws, parent.selections.contrast, 'contrast');
  const testSel = refSelection(ws, parent.selections.test, 'test');
  const share = req.anomalyShare ?? DEFAULT_ANOMALY_SHARE;

  const runId = startTrainingRun(ws, {
    name: req.name ?? `${parent.name ?? `run ${parent.id}`} + feedback`,
    config: parent.config,
    inliers: inlierSel,
    contrast: contrastSel,
    test: testSel,
    extractor,
  });
  hooks.onProgress?.({ kind: 'run', runId });
  let recording = false;
  try {
    // the marked images' datasets (a scored folder, a file added from the command line)
    const markedDatasets = [...new Set(marked.map((m) => m.datasetId))].map((id) =>
      selectionOf(ws, { datasetId: id, labels: null }, 'marked images'),
    );
    const live = liveRunWriter(ws, runId);
    await extractSelections(
      ws,
      [inlierSel, ...(contrastSel ? [contrastSel] : []), ...markedDatasets],
      extractor,
      {
        signal: hooks.signal,
        onProgress: (selection, p) => {
          live.extract(selection, p.done, p.total, p.imagesPerSec, p.etaSeconds);
          hooks.onProgress?.({ kind: 'extract', selection, p });
        },
      },
    );
    const markedHashes = new Set(marked.map((m) => m.contentHash));
    const isMarked = (it: ItemRow) =>
      normalIds.has(it.id) || anomalyIds.has(it.id) || markedHashes.has(it.contentHash);
    const heldOut = new Set(evaluation.heldOutItemIds.filter((id) => !anomalyIds.has(id)));

    // inliers: the parent's training inliers without confirmed anomalies, plus the marked normals
    const inl = loadSelection(ws, inlierSel, extractor.id, 'inliers');
    const anomalyHashes = new Set(marked.filter((m) => anomalyIds.has(m.id)).map((m) => m.contentHash));
    const trainInl = rowsOf(
      inl.items,
      inl.features,
      (it) => !heldOut.has(it.id) && !anomalyHashes.has(it.contentHash),
    );
    const normals = ws.items.byIds([...normalIds]).filter((it) => !heldOut.has(it.id));
    const normalFeatures = ws.features.load(
      extractor.id,
      normals.map((n) => n.contentHash!),
    );
    const inlierHashes = new Set(trainInl.items.map((i) => i.contentHash));
    const newNormals = normals.filter((n) => !inlierHashes.has(n.contentHash));
    const inliers = vstack([
      trainInl.features,
      takeRows(
        { rows: normals.length, cols: normalFeatures.dim, data: normalFeatures.matrix },
        normals.map((n, i) => (newNormals.includes(n) ? i : -1)).filter((i) => i >= 0),
      ),
    ]);

    // contrast: the parent's contrast without marked normals, plus the confirmed anomalies repeated
    let contrast: Matrix | null = null;
    let copies = 0;
    if (contrastSel && info.needsContrast) {
      const con = loadSelection(ws, contrastSel, extractor.id, 'contrast');
      const normalHashes = new Set(marked.filter((m) => normalIds.has(m.id)).map((m) => m.contentHash));
      const keep = rowsOf(
        con.items,
        con.features,
        (it) => !normalIds.has(it.id) && !normalHashes.has(it.contentHash),
      );
      const anomalies = ws.items.byIds([...anomalyIds]);
      if (anomalies.length) {
        const a = ws.features.load(
          extractor.id,
          anomalies.map((x) => x.contentHash!),
        );
        const aMatrix = { rows: anomalies.length, cols: a.dim, data: a.matrix };
        // r copies of n anomalies among m others: r·n / (m + r·n) ≈ share
        copies = Math.max(1, Math.round((share * keep.items.length) / ((1 - share) * anomalies.length)));
        contrast = vstack([keep.features, ...Array.from({ length: copies }, () => aMatrix)]);
      } else contrast = keep.features;
    }

    // evaluation: the parent's scored set without the marked images
    const parentView = rankedRun(ws, parent.id);
    const evalById = new Map(ws.items.byIds(parentView.items.map((i) => i.itemId)).map((i) => [i.id, i]));
    const kept = parentView.items.filter((i) => evalById.has(i.itemId) && !isMarked(evalById.get(i.itemId)!));
    const names = new Map(ws.datasets.list().map((d) => [d.id, d.name]));
    const testItems = kept.map((k) => evalById.get(k.itemId)!);
    const tf = ws.features.load(
      extractor.id,
      testItems.map((t) => t.contentHash!),
    );
    const isAnomaly = kept.map((k) => k.anomaly);
    const group = kept.map((k, i) =>
      k.anomaly ? testItems[i].label || names.get(testItems[i].datasetId) || '' : '',
    );

    recording = true;
    const r = await recordTrainingRun(
      ws,
      {
        config: parent.config,
        inliers: { selection: inlierSel, features: inliers },
        contrast: contrast && contrastSel ? { selection: contrastSel, features: contrast } : null,
        extractor,
        test:
          isAnomaly.some(Boolean) && isAnomaly.some((a) => !a)
            ? {
                selection: testSel ?? contrastSel ?? inlierSel,
                items: testItems,
                features: { rows: testItems.length, cols: tf.dim, data: tf.matrix },
                isAnomaly,
                group,
              }
            : undefined,
        evaluation: { ...evaluation, heldOutItemIds: [...heldOut], trainItemCount: inliers.rows },
      },
      { signal: hooks.signal, onProgress: (p) => hooks.onProgress?.({ kind: 'train', p }), runId },
    );
    if (!r.testScores) {
      const held = kept.flatMap((k, i) => (heldOut.has(k.itemId) ? [i] : []));
      const { score } = await scoreDetector(
        r.detector,
        takeRows({ rows: testItems.length, cols: tf.dim, data: tf.matrix }, held),
        'the held-out inliers',
      );
      ws.scores.putMany(
        runId,
        held.map((i, j) => ({ itemId: testItems[i].id, score: score[j] })),
      );
    }

    // before/after on the common evaluation set, at the parent's target false-positive rate
    const targetFpr = runThreshold(ws, parent.id).targetFpr ?? DEFAULT_TARGET_FPR;
    const childScores = new Map(ws.scores.list(runId).map((s) => [s.itemId, s.score]));
    const side = (score: (id: number) => number) => {
      const held = kept.filter((k) => heldOut.has(k.itemId)).map((k) => score(k.itemId));
      const t = thresholdFor(held, targetFpr);
      const rest = kept.filter((k) => !heldOut.has(k.itemId));
      const perGroup: Record<string, number | null> = {};
      for (const g of [...new Set(group.filter(Boolean))].sort()) {
        const sub = kept.filter((k, i) => !k.anomaly || group[i] === g);
        perGroup[g] = auroc(
          sub.map((k) => score(k.itemId)),
          sub.map((k) => k.anomaly),
        );
      }
      const both = isAnomaly.some(Boolean) && isAnomaly.some((a) => !a);
      return {
        threshold: t,
        flagged: countFlagged(
          rest.map((k) => score(k.itemId)),
          t,
        ),
        auroc: both
          ? auroc(
              kept.map((k) => score(k.itemId)),
              isAnomaly,
            )
          : null,
        perGroup,
      };
    };
    const parentScore = new Map(parentView.items.map((i) => [i.itemId, i.score]));
    const before = side((id) => parentScore.get(id)!);
    const after = side((id) => childScores.get(id)!);
    // the marked images, scored by both detectors
    const parentDet = runDetector(ws, parent.id).detector;
    const mf = ws.features.load(
      extractor.id,
      marked.map((m) => m.contentHash!),
    );
    const mx = { rows: marked.length, cols: mf.dim, data: mf.matrix };
    const [sb, sa] = await Promise.all([
      scoreDetector(parentDet, mx, 'the marked images'),
      scoreDetector(r.detector, mx, 'the marked images'),
    ]);
    const comparison: RetrainComparison = {
      fromRunId: parent.id,
      targetFpr,
      normals: normalIds.size,
      anomalies: anomalyIds.size,
      anomalyCopies: copies,
      evaluated: kept.length,
      before,
      after,
      moved: marked.map((m, i) => ({
        itemId: m.id,
        relPath: m.relPath,
        mark: normalIds.has(m.id) ? ('normal' as const) : ('anomaly' as const),
        before: sb.score[i],
        after: sa.score[i],
        flaggedBefore: sb.score[i] >= before.threshold,
        flaggedAfter: sa.score[i] >= after.threshold,
      })),
    };
    const metrics: TrainMetrics = {
      ...r.metrics,
      threshold: { threshold: after.threshold, targetFpr },
      retrain: comparison,
      notes: [...r.metrics.notes, ...notes],
    };
    ws.runs.setMetrics(runId, metrics);
    return { runId, fromRunId: parent.id, comparison, notes, metrics };
  } catch (e) {
    if (!recording || ws.runs.get(runId)?.status === 'running') failRun(ws, runId, e);
    throw e;
  }
}
