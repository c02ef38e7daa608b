/**
 * The flagging threshold of a run (eval/threshold.ts has the rule): picked from a target
 * false-positive rate on the run's held-out inliers and stored with it (exports carry it). A
 * score run follows the threshold of the run whose detector scored it.
 */
import { countFlagged, thresholdFor } from '../eval/threshold';
import type { Workspace } from '../store';
import { UserError, userError } from '../util/errors';
import { detectorRunOf, getRun } from './detectorOfRun';
import { rankedRun } from './rankedRun';
import { invalidateRunViews } from './runViewCache';

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
  const t = computeThreshold(ws, owner, stored?.targetFpr ?? DEFAULT_TARGET_FPR);
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
