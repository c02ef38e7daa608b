/**
 * Plain maximum likelihood (the "Flow" method and each flow of "Flow-ratio"):
 *   loss = mean_x[−log pθ(x)]
 */
import { appendLogProb } from '../../flow/flowGraph';
import { GraphBuilder } from '../../flow/graph';
import type { FlowSpec } from '../../flow/spec';
import type { ObjectiveGraph } from './types';

export function nllObjective(spec: FlowSpec, bx: number): ObjectiveGraph {
  void bx;
  const g = new GraphBuilder();
  const x = g.input('x', ['N', spec.dim]);
  const lp = appendLogProb(g, spec, x);
  const nll = g.mean(g.neg(lp), 'inlierNll');
  const loss = g.scale(nll, 1, 'loss');
  return { graph: g.build([loss, nll]), usesContrast: false, usesEps: false };
}
