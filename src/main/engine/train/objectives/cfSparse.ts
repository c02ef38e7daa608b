/**
 * The CF objective (cf.ts, METHOD §3) with an exact sparse contrast backward:
 *   loss = mean_x[−log pθ(x)] + mean_y[max(log pθ(y), ε)]
 * Contrast rows with log pθ(y) < ε are clamped: their term is the constant ε and their gradient
 * exactly zero, yet the dense graph back-propagates every one of them through every block. Here
 *
 *   lpy  = log p(y)                        forward only: the clamp decision and the progress
 *                                          figures (contrastNll, share above ε)
 *   m    = 1[lpy ≥ ε]                      (GeMask: no derivative; ties kept, as MaxScalar's rule)
 *   yAct = the rows of y with m = 1        (CompressRows: a row count known at run time, K)
 *   lp   = log p([x; yAct])                forward and backward, Bx + K rows
 *   w    = [−1/Bx (Bx times); 1/By (K times)]
 *   loss = Σ w ⊙ lp + (By − Σ m)·ε/By      = mean(−lpx) + (Σ lpAct + (By − K)·ε)/By
 *          (+ a term that is 0, or non-finite when a log p(y) is NaN: the trainer's NaN guard)
 *
 * equals cf.ts's loss (a clamped row contributes ε, a kept row its log p) and has the same
 * gradient: −1/Bx on each inlier's log p, 1/By on each kept contrast row's, nothing on the
 * clamped ones. The kept rows' forward is computed again with the inliers (~10 % of the
 * contrast batch once CF has trained a while): cheaper than keeping every contrast row's
 * activations to gather them, and one backward pass over Bx + K rows runs fewer, larger
 * products than a pass for the inliers and one for the kept rows. Outputs as cf.ts.
 */
import { appendLogProb } from '../../flow/flowGraph';
import { GraphBuilder } from '../../flow/graph';
import type { FlowSpec } from '../../flow/spec';
import type { ObjectiveGraph } from './types';

export function cfSparseObjective(spec: FlowSpec, bx: number, by: number): ObjectiveGraph {
  const g = new GraphBuilder();
  const x = g.input('x', [bx, spec.dim]);
  const y = g.input('y', [by, spec.dim]);
  const eps = g.input('eps', []);
  const lpy = appendLogProb(g, spec, y, '', 'y/');
  const contrastLogp = g.scale(lpy, 1, 'contrastLogp');
  const mask = g.geMask(lpy, eps, 'contrastActive');
  const yAct = g.compressRows(y, mask, 'yActive');
  const lp = appendLogProb(g, spec, g.concatRows(x, yAct), '', 'xy/');
  // weights: −1/Bx on the inliers, 1/By on the kept contrast rows (K ones: the mask's kept rows)
  const wx = g.node('Fill', [g.node('Const', [], { c: -1 / bx })], { shape: [bx] });
  const wy = g.scale(g.compressRows(mask, mask), 1 / by);
  const weighted = g.sumAll(g.mul(lp, g.concatRows(wx, wy)));
  // (By − Σ m)·ε/By: the clamped rows' constant part
  const clamped = g.scale(g.mul(g.addConst(g.neg(g.sumAll(mask)), by), eps), 1 / by);
  // the NaN guard sees what cf.ts's loss sees: a NaN log p(y) there makes max(NaN, ε) and the
  // loss NaN, but here the row would just fail lpy ≥ ε. Rows with neither lpy ≥ ε nor lpy ≤ ε are
  // NaN; log(1 − their count) is 0 without one and −∞ or NaN with any (no derivative: masks)
  const below = g.geMask(g.neg(lpy), g.neg(eps));
  const ordered = g.sumAll(g.sub(g.add(mask, below), g.mul(mask, below)));
  const nanGuard = g.log(g.addConst(ordered, 1 - by));
  const loss = g.add(g.add(weighted, clamped), nanGuard, 'loss');
  const inlierNll = g.mean(g.neg(g.sliceRows(lp, 0, bx)), 'inlierNll');
  const contrastNll = g.mean(g.neg(lpy), 'contrastNll');
  return {
    graph: g.build([loss, inlierNll, contrastNll, contrastLogp]),
    usesContrast: true,
    usesEps: true,
  };
}
