/**
 * Scoring images with a trained detector, ranked most anomalous first:
 * - with a workspace run's detector: recorded as a child 'score' run of the run whose detector
 *   scored (detectorRunOf), which follows that run's threshold;
 * - with a detector file: the ranked list only (nothing recorded).
 * The detector's extractor is found in the workspace by its sha256; missing features are
 * extracted first.
 */
import path from 'node:path';
import { scoreDetector } from '../detector/scoreDetector';
import type { Detector } from '../detector/types';
import type { ItemRow, Workspace } from '../store';
import { toCsv } from '../util/csv';
import { CancelledError } from '../util/errors';
import { runDetector } from './detectorOfRun';
import { extractSelections } from './extraction';
import { extractorForDetector } from './extractors';
import { loadSelection, selectionLabel, toRef, type Selection } from './selection';
import { runThresholdOrNull } from './threshold';
import type { StudioHooks } from './train';

export interface RankedScore {
  rank: number;
  score: number;
  /** log p(x) of the inlier flow (flow methods), else null */
  logProb: number | null;
  item: ItemRow;
  /** absolute path of the image */
  path: string;
}

export interface ScoredSelection {
  selection: Selection;
  /** most anomalous first */
  ranked: RankedScore[];
  seconds: number;
}

async function scoreImages(
  ws: Workspace,
  detector: Detector,
  source: string,
  selection: Selection,
  hooks: StudioHooks,
): Promise<ScoredSelection & { scores: Float32Array; items: ItemRow[] }> {
  const extractor = extractorForDetector(ws, detector, source);
  await extractSelections(ws, [selection], extractor, {
    signal: hooks.signal,
    onProgress: (s, p) => hooks.onProgress?.({ kind: 'extract', selection: s, p }),
  });
  const data = loadSelection(ws, selection, extractor.id, 'input');
  const t0 = performance.now();
  const { score, logProb } = await scoreDetector(detector, data.features, selectionLabel(selection));
  const root = ws.datasets.get(selection.datasetId)!.root;
  const order = [...score.keys()].sort((a, b) => score[b] - score[a] || data.items[a].id - data.items[b].id);
  return {
    selection,
    ranked: order.map((i, r) => ({
      rank: r + 1,
      score: score[i],
      logProb: logProb ? logProb[i] : null,
      item: data.items[i],
      path: path.join(root, data.items[i].relPath),
    })),
    seconds: (performance.now() - t0) / 1000,
    scores: score,
    items: data.items,
  };
}

/** Scores a selection with a detector that is not a workspace run (e.g. read from a file). */
export async function scoreWithDetector(
  ws: Workspace,
  detector: Detector,
  source: string,
  selection: Selection,
  hooks: StudioHooks = {},
): Promise<ScoredSelection> {
  const r = await scoreImages(ws, detector, source, selection, hooks);
  return { selection: r.selection, ranked: r.ranked, seconds: r.seconds };
}

export interface ScoreRunOutcome extends ScoredSelection {
  /** the new child run */
  runId: number;
  /** the run whose detector scored */
  detectorRunId: number;
  /** the detector run's threshold (flagged = this list's items at or above it) */
  threshold: number | null;
}

/** Scores a dataset with run `runId`'s detector into a new child run. */
export async function scoreWithRun(
  ws: Workspace,
  runId: number,
  selection: Selection,
  hooks: StudioHooks = {},
): Promise<ScoreRunOutcome> {
  const { detector, detectorRunId } = runDetector(ws, runId);
  const parent = ws.runs.get(detectorRunId)!;
  const extractor = extractorForDetector(ws, detector, `run ${detectorRunId}'s detector`);
  const child = ws.runs.create({
    kind: 'score',
    name: `${parent.name ?? `run ${detectorRunId}`} → ${selectionLabel(selection)}`,
    method: parent.method,
    config: { parentRunId: detectorRunId },
    extractorId: extractor.id,
    selections: { scored: toRef(selection) },
    parentRunId: detectorRunId,
  });
  ws.runs.start(child);
  try {
    const r = await scoreImages(ws, detector, `run ${detectorRunId}'s detector`, selection, hooks);
    ws.transaction(() =>
      ws.scores.putMany(
        child,
        r.items.map((it, i) => ({ itemId: it.id, score: r.scores[i] })),
      ),
    );
    ws.runs.finish(child, {
      status: 'done',
      backend: parent.backend ?? undefined,
      metrics: { scored: r.scores.length },
      timings: { scoreSeconds: r.seconds },
    });
    return {
      selection,
      ranked: r.ranked,
      seconds: r.seconds,
      runId: child,
      detectorRunId,
      threshold: runThresholdOrNull(ws, child)?.threshold ?? null,
    };
  } catch (e) {
    ws.runs.finish(child, {
      status: e instanceof CancelledError ? 'cancelled' : 'failed',
      error: (e as Error).message,
    });
    throw e;
  }
}

/**
 * A scored folder's ranked list as CSV (what `cfstudio score --out` writes): rank, score,
 * log_prob, [is_anomaly (1/0) when a threshold exists,] path, label; most anomalous first.
 */
export function scoreListCsv(ranked: readonly RankedScore[], threshold: number | null): string {
  return toCsv(
    ['rank', 'score', 'log_prob', ...(threshold !== null ? ['is_anomaly'] : []), 'path', 'label'],
    ranked.map((r) => [
      r.rank,
      r.score,
      r.logProb,
      ...(threshold !== null ? [r.score >= threshold] : []),
      r.path,
      r.item.label,
    ]),
  );
}
