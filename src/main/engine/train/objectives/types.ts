import type { Graph } from '../../flow/graph';
import type { FlowSpec } from '../../flow/spec';

/**
 * A training objective as a graph over the flow's log-prob. Inputs: `x` [Bx, D] inliers,
 * optionally `y` [By, D] contrast and `eps` (scalar). Outputs by name:
 * `loss` (scalar to minimize), `inlierNll`, `contrastNll` (scalars, for display),
 * `contrastLogp` ([By], for the share of contrast points above ε).
 */
export interface ObjectiveGraph {
  graph: Graph;
  usesContrast: boolean;
  usesEps: boolean;
}

export type ObjectiveBuilder = (spec: FlowSpec, bx: number, by: number) => ObjectiveGraph;
