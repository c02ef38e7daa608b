/**
 * Outlier exposure for density models (Hendrycks et al.; METHOD §3), used to fine-tune a
 * flow that was first trained by plain NLL. With paired rows (x_i, y_i):
 *   loss = mean_x[−log pθ(x)] + λ · mean_i max(0, m + log pθ(y_i) − log pθ(x_i))
 */
import { appendLogProb } from '../../flow/flowGraph';
import { GraphBuilder } from '../../flow/graph';
import type { FlowSpec } from '../../flow/spec';
import type { ObjectiveGraph } from './types';

export function oeObjective(lambda: number, margin: number) {
  return (spec: FlowSpec, bx: number, by: number): ObjectiveGraph => {
    if (bx !== by)
      throw new Error(`OE pairs inliers with contrast rows: batch sizes must match (${bx} vs ${by})`);
    const g = new GraphBuilder();
    const x = g.input('x', [bx, spec.dim]);
    const y = g.input('y', [by, spec.dim]);
    const lp = appendLogProb(g, spec, g.concatRows(x, y));
    const lpx = g.sliceRows(lp, 0, bx);
    const lpy = g.sliceRows(lp, bx, bx + by, 'contrastLogp');
    const inlierNll = g.mean(g.neg(lpx), 'inlierNll');
    const contrastNll = g.mean(g.neg(lpy), 'contrastNll');
    const hinge = g.mean(g.relu(g.addConst(g.sub(lpy, lpx), margin)));
    const loss = g.add(inlierNll, g.scale(hinge, lambda), 'loss');
    return { graph: g.build([loss, inlierNll, contrastNll, lpy]), usesContrast: true, usesEps: false };
  };
}
