/**
 * The flagging threshold of a run (eval/threshold.ts has the rule): picked from a target
 * false-positive rate on the run's held-out inliers and stored with it (exports carry it). A
 * score run follows the threshold of the run whose detector scored it.
 */
import { countFlagged, thresholdFor } from '../eval/threshold';
import type { Detector } from '../detector/types';
import type { Workspace } from '../store';
import { UserError, userError } from '../util/errors';
import { detectorRunOf, getRun, runDetector } from './detectorOfRun';
import { rankedRun } from './rankedRun';
import { cachedRunView, invalidateRunViews } from './runViewCache';

/** The target FPR used until the user picks one. */
export const DEFAULT_TARGET_FPR = 0.05;

export interface ThresholdInfo {
  /** score at or above which an item is flagged */
  threshold: number;
  /** target false-positive rate on held-out inliers that chose it */
  targetFpr: number;
  /** FPR measured on the held-out inliers at this threshold */
  heldOutFpr: number;
  /** held-out inliers it was computed on */
  heldOutCount: number;
  /** this run's scored items at or above the threshold */
  flagged: number;
}

function computeThreshold(ws: Workspace, runId: number, targetFpr: number): Omit<ThresholdInfo, 'flagged'> {
  const view = rankedRun(ws, runId);
  if (view.heldOutScores.length === 0)
    throw userError('run-no-held-out', `run ${runId} has no held-out inliers to pick a threshold from`, {
      runId,
    });
  const threshold = thresholdFor(view.heldOutScores, targetFpr);
  return {
    threshold,
    targetFpr,
    heldOutFpr: countFlagged(view.heldOutScores, threshold) / view.heldOutScores.length,
    heldOutCount: view.heldOutScores.length,
  };
}

/** The threshold an imported detector file carries, as the run's threshold (cached). */
function importedThreshold(ws: Workspace, runId: number): Omit<ThresholdInfo, 'flagged'> | null {
  return cachedRunView(ws, runId, 'imported-threshold', true, () => {
    const t = runDetector(ws, runId).detector.threshold;
    return t
      ? { threshold: t.value, targetFpr: t.targetFpr, heldOutFpr: t.targetFpr, heldOutCount: t.heldOutCount }
      : null;
  });
}

/** The run's threshold: the stored target FPR (else the default) on its detector run's held-out inliers. */
export function runThreshold(ws: Workspace, runId: number): ThresholdInfo {
  const run = getRun(ws, runId);
  const owner = detectorRunOf(run);
  if (owner === null)
    throw userError('run-no-held-out', `run ${runId} is an evaluation protocol; it has no threshold`, {
      runId,
    });
  const ownerRun = owner === runId ? run : getRun(ws, owner);
  const stored = ownerRun.kind === 'train' ? ownerRun.metrics?.threshold : undefined;
  // an imported detector brings the threshold it was exported with (its held-out images are not here)
  const carried = ownerRun.kind === 'import' ? importedThreshold(ws, owner) : null;
  const t = carried ?? computeThreshold(ws, owner, stored?.targetFpr ?? DEFAULT_TARGET_FPR);
  return {
    ...t,
    flagged: countFlagged(
      rankedRun(ws, runId).items.map((i) => i.score),
      t.threshold,
    ),
  };
}

/** The run's threshold, or null when it has none (no held-out inliers, e.g. an imported detector). */
export function runThresholdOrNull(ws: Workspace, runId: number): ThresholdInfo | null {
  try {
    return runThreshold(ws, runId);
  } catch (e) {
    if (e instanceof UserError && e.code === 'run-no-held-out') return null;
    throw e;
  }
}

/** Picks the threshold for `targetFpr` and stores it with the run (the export carries it). */
export function setThreshold(ws: Workspace, runId: number, targetFpr: number): ThresholdInfo {
  const run = getRun(ws, runId);
  if (run.kind === 'score')
    throw userError(
      'run-follows-parent',
      `run ${runId} scores a folder with run ${run.config.parentRunId}'s detector and follows its threshold`,
      { runId, parentRunId: run.config.parentRunId },
    );
  if (run.kind !== 'train')
    throw userError('run-no-held-out', `run ${runId} has no held-out inliers to pick a threshold from`, {
      runId,
    });
  const t = computeThreshold(ws, runId, targetFpr);
  ws.runs.setMetrics(runId, {
    ...(run.metrics ?? { evaluation: null, eps: null, contrastAboveEps: null, phases: [], notes: [] }),
    threshold: { threshold: t.threshold, targetFpr },
  });
  // this run and the score runs that follow it
  invalidateRunViews(ws, [runId, ...ws.runs.list({ parentRunId: runId }).map((r) => r.id)]);
  return runThreshold(ws, runId);
}

/**
 * A run's detector with its decision: the threshold the run uses and the held-out inlier scores
 * it was picked from (so a .cfdet or ONNX export carries both). Unchanged when the run has none.
 */
export function detectorWithDecision(ws: Workspace, runId: number, det: Detector): Detector {
  const t = runThresholdOrNull(ws, runId);
  if (!t) return det;
  const owner = detectorRunOf(getRun(ws, runId));
  const held = owner !== null && getRun(ws, owner).kind === 'train' ? rankedRun(ws, owner).heldOutScores : [];
  return {
    ...det,
    threshold: { value: t.threshold, targetFpr: t.targetFpr, heldOutCount: t.heldOutCount },
    calibration: held.length
      ? { heldOutScores: [...held].sort((a, b) => a - b).slice(0, 100_000) }
      : (det.calibration ?? null),
  };
}

export interface DecisionAsk {
  /** a target false-positive rate on the held-out inliers the detector carries */
  fpr?: number;
  /** PyOD-style: the expected share of anomalies in the scored data (flags its top share) */
  contamination?: number;
}

/**
 * The threshold a scoring uses: `fpr` re-picks it from the detector's held-out inlier scores,
 * `contamination` c flags the top c share of the scored data (the (1 − c) quantile of its scores,
 * as PyOD does), and without either the detector's own threshold applies. Null: no decision.
 */
export function decisionFor(
  det: Detector,
  ask: DecisionAsk,
  scored: ArrayLike<number>,
): { threshold: number; rule: string } | null {
  if (ask.fpr !== undefined) {
    const held = det.calibration?.heldOutScores ?? [];
    if (!held.length)
      throw userError(
        'invalid-input',
        'this detector carries no held-out inlier scores to pick a threshold at another false-positive rate',
        {},
        'export it again from a run trained on held-out images, or give the share of anomalies to expect instead',
      );
    return {
      threshold: thresholdFor(held, ask.fpr),
      rule: `${(ask.fpr * 100).toPrecision(3)} % target FPR on ${held.length} held-out inliers`,
    };
  }
  if (ask.contamination !== undefined) {
    const s = Array.from(scored).sort((a, b) => b - a);
    const k = Math.max(1, Math.round(ask.contamination * s.length));
    return { threshold: s[k - 1], rule: `the top ${k} of ${s.length} (contamination ${ask.contamination})` };
  }
  return det.threshold
    ? {
        threshold: det.threshold.value,
        rule: `the detector's threshold (${(det.threshold.targetFpr * 100).toPrecision(3)} % target FPR)`,
      }
    : null;
}
