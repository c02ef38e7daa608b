/**
 * One training step of a flow objective as a single ONNX graph, for ONNX Runtime (which has no
 * training API in Node). Built from the same IR the TensorFlow.js trainer runs:
 *
 *   objective graph (objectives/*.ts)  →  appendGradients (flow/autodiff)  →  ONNX (emitIrGraph)
 *   + Adam in-graph, with exactly adam.ts's semantics (t = steps done before this one):
 *       lr_t = lr·½(1 + cos(π·min(t, T)/max(1, T)))
 *       ‖g‖ = √Σ g²;  g ← g · (‖g‖ > c ? c/(‖g‖ + 1e-6) : 1)
 *       m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *       θ ← θ − (m·lr_t/(1−β1^(t+1))) / (√(v/(1−β2^(t+1))) + ε̂)
 *
 * Parameters and Adam moments are flat vectors θ, m, v [P] (parameter k at offset o_k, in
 * flowParamShapes order): one feed each instead of 64, and the optimizer is a dozen ops.
 *
 * Inputs:  theta, adam_m, adam_v [P]; step [] (float); x [Bx, D]; y [By, D] and eps [] when the
 *          objective uses them.
 * Outputs: theta_next, adam_m_next, adam_v_next [P]; loss, inlier_nll, grad_norm, lr [];
 *          contrast_nll [], contrast_above (count of log p(y) > ε) [], contrast_clamped
 *          (count of log p(y) < ε: the points with zero gradient) [] when the objective has them.
 */
import onnxProto from 'onnx-proto';
import { appendGradients } from '../../flow/autodiff/gradients';
import { flowParamShapes } from '../../flow/flowGraph';
import type { FlowSpec } from '../../flow/spec';
import { emitIrGraph, FLOAT, floatValueInfo, OnnxEmitter, type EmitterChoices } from '../../export/onnxGraph';
import type { ObjectiveGraph } from '../objectives/types';
import type { AdamConfig } from '../adam';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;

export const TRAIN_STEP_OPSET = 17;

export const DEFAULT_TRAIN_STEP_CHOICES: EmitterChoices = { permuteAsMatMul: true };

/** The same optimizer settings as the tfjs Adam (train/adam.ts), run in-graph. */
export type TrainStepAdam = AdamConfig;

export interface ParamSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface TrainStepModel {
  /** the serialized ONNX model */
  bytes: Uint8Array;
  /** total parameter count P */
  paramCount: number;
  /** where each parameter lives in θ */
  slots: ParamSlot[];
  /** input and output names actually present */
  inputs: string[];
  outputs: string[];
  /** floating-point operations of one step's forward + backward (multiply-adds × 2, products only) */
  matmulFlops: number;
}

export interface TrainStepGraphOptions {
  spec: FlowSpec;
  objective: ObjectiveGraph;
  bx: number;
  by: number;
  adam: TrainStepAdam;
  /** ONNX translation choices (see EmitterChoices); default: what measured fastest */
  choices?: EmitterChoices;
}

/** Names of the IR objective outputs → ONNX output names. */
const OBJECTIVE_OUTPUTS: Record<string, string> = {
  loss: 'loss',
  inlierNll: 'inlier_nll',
  contrastNll: 'contrast_nll',
};

/** One step's graph before encoding (the Loop body of trainLoopGraph.ts is built from it). */
export interface TrainStepGraph extends Omit<TrainStepModel, 'bytes'> {
  graph: onnxProto.onnx.GraphProto;
}

export function buildTrainStepModel(o: TrainStepGraphOptions): TrainStepModel {
  const { graph, ...rest } = buildTrainStepGraph(o);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cfstudio',
    docString: 'CF Studio flow training step (forward, backward, Adam) — see train/ort/trainStepGraph.ts',
    opsetImport: [{ domain: '', version: TRAIN_STEP_OPSET }],
    graph,
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), ...rest };
}

export function buildTrainStepGraph(o: TrainStepGraphOptions): TrainStepGraph {
  const { spec, objective, bx, by } = o;
  const g = objective.graph;
  const shapes = flowParamShapes(spec);
  const slots: ParamSlot[] = [];
  let P = 0;
  for (const s of shapes) {
    const size = s.shape.reduce((a, b) => a * b, 1);
    slots.push({ name: s.name, shape: s.shape, offset: P, size });
    P += size;
  }
  const inputShapes: Record<string, number[]> = { x: [bx, spec.dim] };
  if (objective.usesContrast) inputShapes.y = [by, spec.dim];
  if (objective.usesEps) inputShapes.eps = [];
  const grad = appendGradients(
    g,
    'loss',
    slots.map((s) => s.name),
    inputShapes,
  );

  const e = new OnnxEmitter('f/', TRAIN_STEP_OPSET, o.choices ?? DEFAULT_TRAIN_STEP_CHOICES);
  const bind: Record<string, string> = { x: 'x' };
  const inputs = [floatValueInfo('theta', [P]), floatValueInfo('adam_m', [P]), floatValueInfo('adam_v', [P])];
  inputs.push(floatValueInfo('step', []), floatValueInfo('x', [bx, spec.dim]));
  if (objective.usesContrast) {
    bind.y = 'y';
    inputs.push(floatValueInfo('y', [by, spec.dim]));
  }
  if (objective.usesEps) {
    bind.eps = 'eps';
    inputs.push(floatValueInfo('eps', []));
  }
  // θ → parameters: one Split (one kernel, one pass over θ) rather than a Slice per parameter
  const flats = slots.map((s) => e.fresh(`${s.name}.flat`));
  e.nodes.push(
    onnx.NodeProto.create({
      opType: 'Split',
      input: [
        'theta',
        e.int64Vector(
          'sizes',
          slots.map((s) => s.size),
        ),
      ],
      output: flats,
      name: 'theta/Split',
      attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }],
    }),
  );
  slots.forEach((s, k) => {
    bind[s.name] =
      s.shape.length === 1
        ? flats[k]
        : e.node('Reshape', [flats[k], e.int64Vector('shape', s.shape)], `p/${s.name}`);
  });
  const outputNames: Record<string, string> = {};
  for (const [ir, onnxName] of Object.entries(OBJECTIVE_OUTPUTS))
    if (g.outputs.includes(ir)) outputNames[ir] = onnxName;
  const names = emitIrGraph(e, grad.graph, { bind, outputNames });

  // flat gradient [P] in slot order
  const gradParts = slots.map((s) =>
    s.shape.length === 1
      ? names[grad.grads[s.name]]
      : e.node('Reshape', [names[grad.grads[s.name]], e.int64Vector('flat', [s.size])], e.fresh('gflat')),
  );
  const gFlat = e.node('Concat', gradParts, 'grad_flat', [{ name: 'axis', type: AttrType.INT, i: 0 }]);

  const outputs: string[] = [
    'theta_next',
    'adam_m_next',
    'adam_v_next',
    'loss',
    'inlier_nll',
    'grad_norm',
    'lr',
  ];
  emitAdam(e, gFlat, o.adam);

  if (g.outputs.includes('contrastNll')) outputs.push('contrast_nll');
  if (g.outputs.includes('contrastLogp')) {
    const lpy = names['contrastLogp'];
    const eps = objective.usesEps ? 'eps' : e.floatConst('eps0', 0);
    const count = (op: string, out: string): void => {
      const mask = e.node('Cast', [e.node(op, [lpy, eps], e.fresh(op))], e.fresh('mask'), [
        { name: 'to', type: AttrType.INT, i: FLOAT },
      ]);
      e.node('ReduceSum', [mask], out, [{ name: 'keepdims', type: AttrType.INT, i: 0 }]);
    };
    count('Greater', 'contrast_above');
    count('Less', 'contrast_clamped');
    outputs.push('contrast_above', 'contrast_clamped');
  }

  const graph = onnx.GraphProto.create({
    name: 'cfstudio_train_step',
    node: e.nodes,
    initializer: e.initializers,
    input: inputs,
    output: outputs.map((name) =>
      name.endsWith('_next') ? floatValueInfo(name, [P]) : floatValueInfo(name, []),
    ),
  });
  const rows = objective.usesContrast ? bx + by : bx;
  const weights = slots.filter((s) => s.shape.length === 2).reduce((a, s) => a + s.size, 0);
  return {
    graph,
    paramCount: P,
    slots,
    inputs: inputs.map((i) => i.name!),
    outputs,
    // forward 2·rows·weights; backward twice that (x̄ and W̄ products)
    matmulFlops: 3 * 2 * rows * weights,
  };
}

/** Appends the Adam update of θ, m, v from the flat gradient (adam.ts semantics, in float32). */
function emitAdam(e: OnnxEmitter, g: string, cfg: TrainStepAdam): void {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const c = (hint: string, v: number) => e.floatConst(hint, v);
  const n = (op: string, ins: string[], hint: string, attrs: onnxProto.onnx.IAttributeProto[] = []) =>
    e.node(op, ins, e.fresh(hint), attrs);

  // cosine schedule on t = steps done before this one
  const T = Math.max(1, cfg.totalSteps);
  const tc = n('Min', ['step', c('T', cfg.totalSteps)], 'tclip');
  const cosv = n('Cos', [n('Mul', [tc, c('pi_over_T', Math.PI / T)], 'angle')], 'cos');
  e.node('Mul', [n('Add', [cosv, c('one', 1)], 'cos1'), c('half_lr', 0.5 * cfg.lr)], 'lr');

  // global-norm clipping, folded into the moments' scalar factors (one pass over g fewer)
  e.node(
    'Sqrt',
    [n('ReduceSumSquare', [g], 'g2', [{ name: 'keepdims', type: AttrType.INT, i: 0 }])],
    'grad_norm',
  );
  const clip = c('clip', cfg.clipNorm);
  const shrink = n('Div', [clip, n('Add', ['grad_norm', c('tiny', 1e-6)], 'normeps')], 'shrink');
  const factor = n('Where', [n('Greater', ['grad_norm', clip], 'over'), shrink, c('one', 1)], 'factor');

  // m ← β1·m + ((1−β1)·f)·g;   v ← β2·v + ((1−β2)·f²)·g²
  const mScale = n('Mul', [factor, c('1mb1', 1 - b1)], 'm_scale');
  const vScale = n('Mul', [n('Mul', [factor, factor], 'f2'), c('1mb2', 1 - b2)], 'v_scale');
  e.node(
    'Add',
    [n('Mul', ['adam_m', c('b1', b1)], 'm_decay'), n('Mul', [g, mScale], 'm_new')],
    'adam_m_next',
  );
  e.node(
    'Add',
    [n('Mul', ['adam_v', c('b2', b2)], 'v_decay'), n('Mul', [n('Mul', [g, g], 'g_sq'), vScale], 'v_new')],
    'adam_v_next',
  );

  // bias corrections at t + 1:  m̂/(√v̂ + ε̂) = m·(√c2/c1) / (√v + ε̂·√c2)
  const t1 = n('Add', ['step', c('one', 1)], 't1');
  const c1 = n('Sub', [c('one', 1), n('Pow', [c('b1', b1), t1], 'b1t')], 'c1');
  const sc2 = n('Sqrt', [n('Sub', [c('one', 1), n('Pow', [c('b2', b2), t1], 'b2t')], 'c2')], 'sqrt_c2');
  const stepSize = n('Div', [n('Mul', ['lr', sc2], 'lr_sc2'), c1], 'step_size');
  const epsHat = n('Mul', [c('adam_eps', cfg.epsilon ?? 1e-8), sc2], 'eps_hat');
  const denom = n('Add', [n('Sqrt', ['adam_v_next'], 'v_sqrt'), epsHat], 'denom');
  const update = n('Div', [n('Mul', ['adam_m_next', stepSize], 'm_step'), denom], 'update');
  e.node('Sub', ['theta', update], 'theta_next');
}
