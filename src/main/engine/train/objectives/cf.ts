/**
 * The contrastive flow objective (the paper's CF, METHOD §3):
 *   loss = mean_x[−log pθ(x)] + mean_y[max(log pθ(y), ε)]
 * Inliers x and contrast y go through the flow as one batch [x; y]. Contrast points with
 * log pθ(y) < ε give no gradient, which keeps the loss bounded. `sparseContrast` gives the same
 * objective with only the rows above ε back-propagated (cfSparse.ts).
 */
import { appendLogProb } from '../../flow/flowGraph';
import { GraphBuilder } from '../../flow/graph';
import type { FlowSpec } from '../../flow/spec';
import { cfSparseObjective } from './cfSparse';
import type { ObjectiveGraph } from './types';

export function cfObjective(spec: FlowSpec, bx: number, by: number): ObjectiveGraph {
  const g = new GraphBuilder();
  const x = g.input('x', [bx, spec.dim]);
  const y = g.input('y', [by, spec.dim]);
  const eps = g.input('eps', []);
  const lp = appendLogProb(g, spec, g.concatRows(x, y));
  const lpx = g.sliceRows(lp, 0, bx);
  const lpy = g.sliceRows(lp, bx, bx + by, 'contrastLogp');
  const inlierNll = g.mean(g.neg(lpx), 'inlierNll');
  const contrastNll = g.mean(g.neg(lpy), 'contrastNll');
  const contrastTerm = g.mean(g.maxScalar(lpy, eps));
  const loss = g.add(inlierNll, contrastTerm, 'loss');
  return {
    graph: g.build([loss, inlierNll, contrastNll, lpy]),
    usesContrast: true,
    usesEps: true,
    sparseContrast: () => cfSparseObjective(spec, bx, by),
  };
}
