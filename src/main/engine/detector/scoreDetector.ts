/**
 * Anomaly scores of a detector on raw features; higher = more anomalous.
 *   CF, Flow, OE:  s(x) = −log pθ(x)
 *   Flow-ratio:    s(x) = log qφ(x) − log pθ(x)
 *   baselines:     their own score (baselines/)
 */
import { initTfjs } from '../backend/tfjsBackend';
import { scoreBaseline } from '../baselines';
import { flowLogProb } from '../flow/flowModel';
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
