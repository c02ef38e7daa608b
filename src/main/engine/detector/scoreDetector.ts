/**
 * Anomaly scores of a detector on raw features; higher = more anomalous.
 *   CF, Flow, OE:  s(x) = −log pθ(x)
 *   Flow-ratio:    s(x) = log qφ(x) − log pθ(x)
 *   baselines:     their own score (baselines/)
 * A score that is not a finite number (NaN, ±Infinity) is an error, never a result: every caller
 * (score lists, evaluation, the ONNX export's comparison) gets the same refusal.
 */
import { initTfjs } from '../backend/tfjsBackend';
import { scoreBaseline } from '../baselines';
import { flowLogProb } from '../flow/flowModel';
import { UserError } from '../util/errors';
import type { Matrix } from '../util/matrix';
import { applyPreprocessing } from './preprocess';
import type { Detector } from './types';

export interface DetectorScores {
  score: Float32Array;
  /** log pθ(x) of the inlier flow (flow methods only) */
  logProb: Float32Array | null;
}

export async function scoreDetector(
  det: Detector,
  raw: Matrix,
  source = 'the input',
): Promise<DetectorScores> {
  const scores = await computeScores(det, raw, source);
  checkFinite(scores.score, det, source);
  return scores;
}

async function computeScores(det: Detector, raw: Matrix, source: string): Promise<DetectorScores> {
  const x = applyPreprocessing(det.preprocessing, raw, source);
  if (det.baseline) return { score: scoreBaseline(det.baseline, x), logProb: null };
  await initTfjs();
  const p = det.flows.find((f) => f.role === 'inlier');
  if (!p) throw new Error('detector has no inlier flow');
  const lp = flowLogProb(p, x);
  const score = new Float32Array(lp.length);
  const q = det.flows.find((f) => f.role === 'contrast');
  if (det.method === 'ratio' && q) {
    const lq = flowLogProb(q, x);
    for (let i = 0; i < lp.length; i++) score[i] = lq[i] - lp[i];
  } else {
    for (let i = 0; i < lp.length; i++) score[i] = -lp[i];
  }
  return { score, logProb: lp };
}

/** Refuses scores holding NaN or ±Infinity, naming how many rows and the first ones (1-based). */
function checkFinite(score: Float32Array, det: Detector, source: string): void {
  const bad: number[] = [];
  for (let i = 0; i < score.length; i++) if (!Number.isFinite(score[i])) bad.push(i + 1);
  if (bad.length === 0) return;
  const first = bad.slice(0, 5).join(', ') + (bad.length > 5 ? ', …' : '');
  throw new UserError(
    `the ${det.method} detector gave no valid score for ${bad.length} of ${score.length} rows of ${source} (NaN or infinite; rows ${first})`,
    'check those rows for extreme values; if every row fails, the detector itself is broken: train it again',
  );
}
