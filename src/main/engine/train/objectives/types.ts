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
  /**
   * The same objective with an exact sparse contrast backward (only the contrast rows that get a
   * gradient are back-propagated; same loss and update), for objectives with a clamp (CF).
   */
  sparseContrast?: () => ObjectiveGraph;
}

/**
 * How the contrast half of a clamped objective is back-propagated: 'dense' (every row, the
 * clamped ones with a zero adjoint), 'sparse' (only the rows above ε: cfSparse.ts), or 'auto'
 * (sparse on ONNX Runtime, where it measured faster; dense on TensorFlow.js).
 */
export type ContrastBackward = 'auto' | 'sparse' | 'dense';

export type ObjectiveBuilder = (spec: FlowSpec, bx: number, by: number) => ObjectiveGraph;
