/**
 * One training step of a flow objective as a single ONNX graph, for ONNX Runtime (which has no
 * training API in Node). Built from the same IR the TensorFlow.js trainer runs:
 *
 *   objective graph (objectives/*.ts)  →  appendGradients (flow/autodiff)  →  ONNX (emitIrGraph)
 *   + Adam in-graph, with exactly adam.ts's semantics (t = steps done before this one):
 *       lr_t = lr·½(1 + cos(π·min(t, T)/max(1, T)))
 *       ‖g‖ = √Σ g²;  g ← g · (‖g‖ > c ? c/(‖g‖ + 1e-6) : 1)
 *       m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *       θ ← θ − (m·lr_t/(1−β1^(t+1))) / (√(v/(1−β2^(t+1))) + ε̂) − lr_t·λ·μ⊙θ
 *     (λ: decoupled weight decay, μ: its mask, 1 on the subnet weights — adam.ts isDecayed)
 *
 * State groups. Inside the step, θ, m and v are held per *group*: each large weight (≥
 * OWN_GROUP_MIN_SIZE elements: the H×H weights of the D=128/H=512 flow) is a group in its own
 * shape, and every other parameter is in one flat group. The large weights feed the products as
 * they are, and Adam runs per group, so each chain of a dozen elementwise ops works on ≤ 3 MB
 * that stays in cache, where one chain on the flat 11.6 MB vectors streamed every intermediate
 * through memory (~17 ms of a ~140 ms step) and splitting θ / concatenating g cost two more
 * passes. Smaller weights share a group because ONNX Runtime's per-kernel cost outweighs the
 * cache gain for them (a group per weight measured 0–5 % slower: 25 groups of 12 kernels).
 *
 * Outside, θ, m, v are flat vectors [P]: the large weights first, then the rest, each in
 * flowParamShapes order (`slots` gives each parameter's offset). The step graph
 * (buildTrainStepGraph) has one input/output per group; buildTrainStepModel and the Loop model
 * (trainLoopGraph.ts) convert flat ↔ groups around it (a Split and a Concat per call).
 *
 * Step graph (per group G, in G's shape):
 *   inputs  theta/G, adam_m/G, adam_v/G; step [] (float); x [Bx, D]; y [By, D] and eps [] when
 *           the objective uses them
 *   outputs theta_next/G, adam_m_next/G, adam_v_next/G; and the per-step outputs below
 * Flat model (buildTrainStepModel):
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
import { emitIrGraph, FLOAT, floatValueInfo, OnnxEmitter, type EmitterChoices } from '../../flow/onnxGraph';
import type { ObjectiveGraph } from '../objectives/types';
import { isDecayed, type AdamConfig } from '../adam';

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

/** Part of the optimizer state held as one tensor inside the step (see "State groups" above). */
export interface StateGroup {
  /** the weight's name, or SMALL_GROUP for the other parameters together */
  name: string;
  /** the weight's shape, or [S] for the flat group of the others */
  shape: number[];
  /** where the group lives in the flat θ, m, v */
  offset: number;
  size: number;
  /** its parameters, in flat order */
  members: ParamSlot[];
}

export const SMALL_GROUP = 'rest';

/** start of the names of the optimizer's nodes' outputs (after the emitter prefix) */
export const ADAM_MARK = 'adam.';

/** The three state tensors (flat names; a group's are `${kind}/${group}`). */
export const STATE_KINDS = ['theta', 'adam_m', 'adam_v'] as const;
export const stateName = (kind: string, group: string): string => `${kind}/${group}`;
export const nextName = (kind: string, group: string): string => `${kind}_next/${group}`;

export interface TrainStepModel {
  /** the serialized ONNX model */
  bytes: Uint8Array;
  /** total parameter count P */
  paramCount: number;
  /** where each parameter lives in θ */
  slots: ParamSlot[];
  /** how θ, m, v are grouped inside the step */
  groups: StateGroup[];
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
  /** weights of at least this many elements are state groups of their own (OWN_GROUP_MIN_SIZE) */
  ownGroupMinSize?: number;
}

/** Names of the IR objective outputs → ONNX output names. */
const OBJECTIVE_OUTPUTS: Record<string, string> = {
  loss: 'loss',
  inlierNll: 'inlier_nll',
  contrastNll: 'contrast_nll',
};

/** One step's graph on grouped state, before encoding (also the Loop body of trainLoopGraph.ts). */
export interface TrainStepGraph extends Omit<TrainStepModel, 'bytes' | 'inputs' | 'outputs'> {
  graph: onnxProto.onnx.GraphProto;
  /** the graph's inputs and outputs (grouped state names) */
  inputs: string[];
  outputs: string[];
  /** outputs with one scalar per step (loss, inlier_nll, grad_norm, lr, …) */
  perStepOutputs: string[];
}

/** parameters with at least this many elements are a group of their own (see the header) */
export const OWN_GROUP_MIN_SIZE = 131072;

/**
 * The flat layout: the large weights (≥ OWN_GROUP_MIN_SIZE elements) first, each its own group;
 * then every other parameter, in flowParamShapes order, as one flat group (SMALL_GROUP).
 */
export function flatLayout(
  spec: FlowSpec,
  ownGroupMinSize = OWN_GROUP_MIN_SIZE,
): { slots: ParamSlot[]; groups: StateGroup[]; paramCount: number } {
  const shapes = flowParamShapes(spec).map((s) => ({ ...s, size: s.shape.reduce((a, b) => a * b, 1) }));
  const alone = (s: { shape: number[]; size: number }) => s.shape.length > 1 && s.size >= ownGroupMinSize;
  const slots: ParamSlot[] = [];
  const groups: StateGroup[] = [];
  let P = 0;
  for (const s of shapes.filter(alone)) {
    const slot = { name: s.name, shape: s.shape, offset: P, size: s.size };
    slots.push(slot);
    groups.push({ name: s.name, shape: s.shape, offset: P, size: s.size, members: [slot] });
    P += s.size;
  }
  const rest: ParamSlot[] = [];
  for (const s of shapes.filter((x) => !alone(x))) {
    rest.push({ name: s.name, shape: s.shape, offset: P, size: s.size });
    P += s.size;
  }
  if (rest.length) {
    const size = rest.reduce((a, s) => a + s.size, 0);
    groups.push({ name: SMALL_GROUP, shape: [size], offset: rest[0].offset, size, members: rest });
    slots.push(...rest);
  }
  return { slots, groups, paramCount: P };
}

/** The one-step model with flat θ, m, v [P] inputs and outputs (see the header). */
export function buildTrainStepModel(o: TrainStepGraphOptions): TrainStepModel {
  const step = buildTrainStepGraph(o);
  const P = step.paramCount;
  const e = new OnnxEmitter('flat/', TRAIN_STEP_OPSET);
  for (const kind of STATE_KINDS) splitState(e, kind, step.groups, (g) => stateName(kind, g));
  e.nodes.push(...((step.graph.node ?? []) as onnxProto.onnx.NodeProto[]));
  e.initializers.push(...((step.graph.initializer ?? []) as onnxProto.onnx.TensorProto[]));
  for (const kind of STATE_KINDS) concatState(e, step.groups, (g) => nextName(kind, g), `${kind}_next`);
  const inputs = [
    ...STATE_KINDS.map((k) => floatValueInfo(k, [P])),
    ...(step.graph.input ?? []).filter((i) => !STATE_KINDS.some((k) => i.name!.startsWith(`${k}/`))),
  ];
  const outputs = [...STATE_KINDS.map((k) => `${k}_next`), ...step.perStepOutputs];
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cfstudio',
    docString: 'CF Studio flow training step (forward, backward, Adam) — see train/ort/trainStepGraph.ts',
    opsetImport: [{ domain: '', version: TRAIN_STEP_OPSET }],
    graph: onnx.GraphProto.create({
      name: 'cfstudio_train_step',
      node: e.nodes,
      initializer: e.initializers,
      input: inputs,
      output: outputs.map((n) => floatValueInfo(n, n.endsWith('_next') ? [P] : [])),
    }),
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    paramCount: P,
    slots: step.slots,
    groups: step.groups,
    inputs: inputs.map((i) => i.name!),
    outputs,
    matmulFlops: step.matmulFlops,
  };
}

/** flat `kind` [P] → one tensor per group, named by `nameOf` (one Split; Reshapes are views). */
export function splitState(
  e: OnnxEmitter,
  flat: string,
  groups: StateGroup[],
  nameOf: (group: string) => string,
): void {
  const parts = groups.map((g) => (g.shape.length === 1 ? nameOf(g.name) : e.fresh(`${g.name}.flat`)));
  e.nodes.push(
    onnx.NodeProto.create({
      opType: 'Split',
      input: [
        flat,
        e.int64Vector(
          'sizes',
          groups.map((g) => g.size),
        ),
      ],
      output: parts,
      name: `${e.prefix}${flat}/Split`,
      attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }],
    }),
  );
  groups.forEach((g, k) => {
    if (g.shape.length > 1) e.node('Reshape', [parts[k], e.int64Vector('shape', g.shape)], nameOf(g.name));
  });
}

/** one tensor per group → flat [P] named `flat` (Reshapes are views; one Concat). */
export function concatState(
  e: OnnxEmitter,
  groups: StateGroup[],
  nameOf: (group: string) => string,
  flat: string,
): void {
  const parts = groups.map((g) =>
    g.shape.length === 1
      ? nameOf(g.name)
      : e.node('Reshape', [nameOf(g.name), e.int64Vector('flat', [g.size])], e.fresh(`${g.name}.flat`)),
  );
  e.node('Concat', parts, flat, [{ name: 'axis', type: AttrType.INT, i: 0 }]);
}

export function buildTrainStepGraph(o: TrainStepGraphOptions): TrainStepGraph {
  const { spec, objective, bx, by } = o;
  const g = objective.graph;
  const { slots, groups, paramCount: P } = flatLayout(spec, o.ownGroupMinSize);
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
  const inputs = STATE_KINDS.flatMap((k) =>
    groups.map((gr) => floatValueInfo(stateName(k, gr.name), gr.shape)),
  );
  inputs.push(floatValueInfo('step', []), floatValueInfo('x', [bx, spec.dim]));
  if (objective.usesContrast) {
    bind.y = 'y';
    inputs.push(floatValueInfo('y', [by, spec.dim]));
  }
  if (objective.usesEps) {
    bind.eps = 'eps';
    inputs.push(floatValueInfo('eps', []));
  }
  // parameters: a group of one weight is the weight; the flat group is split into its members
  for (const gr of groups) {
    if (gr.name !== SMALL_GROUP) {
      bind[gr.name] = stateName('theta', gr.name);
      continue;
    }
    const parts = gr.members.map((m) => e.fresh(m.name));
    e.nodes.push(
      onnx.NodeProto.create({
        opType: 'Split',
        input: [
          stateName('theta', gr.name),
          e.int64Vector(
            'sizes',
            gr.members.map((m) => m.size),
          ),
        ],
        output: parts,
        name: `${stateName('theta', gr.name)}/Split`,
        attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }],
      }),
    );
    gr.members.forEach(
      (m, k) =>
        (bind[m.name] =
          m.shape.length === 1
            ? parts[k]
            : e.node('Reshape', [parts[k], e.int64Vector('shape', m.shape)], e.fresh(m.name))),
    );
  }
  const outputNames: Record<string, string> = {};
  for (const [ir, onnxName] of Object.entries(OBJECTIVE_OUTPUTS))
    if (g.outputs.includes(ir)) outputNames[ir] = onnxName;
  const names = emitIrGraph(e, grad.graph, { bind, outputNames });

  // the gradient per group, in the group's shape
  const gradOf = (gr: StateGroup): string =>
    gr.name !== SMALL_GROUP
      ? names[grad.grads[gr.name]]
      : e.node(
          'Concat',
          gr.members.map((m) =>
            m.shape.length === 1
              ? names[grad.grads[m.name]]
              : e.node(
                  'Reshape',
                  [names[grad.grads[m.name]], e.int64Vector('flat', [m.size])],
                  e.fresh(`${ADAM_MARK}grad_flat`),
                ),
          ),
          e.fresh(`${ADAM_MARK}grad_rest`),
          [{ name: 'axis', type: AttrType.INT, i: 0 }],
        );
  emitAdam(
    e,
    groups.map((gr) => ({ name: gr.name, grad: gradOf(gr), decay: decayMaskOf(gr) })),
    o.adam,
  );

  const perStepOutputs = ['loss', 'inlier_nll', 'grad_norm', 'lr'];
  if (g.outputs.includes('contrastNll')) perStepOutputs.push('contrast_nll');
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
    perStepOutputs.push('contrast_above', 'contrast_clamped');
  }

  const stateOutputs = STATE_KINDS.flatMap((k) =>
    groups.map((gr) => ({ name: nextName(k, gr.name), shape: gr.shape })),
  );
  const graph = onnx.GraphProto.create({
    name: 'cfstudio_train_step_grouped',
    node: e.nodes,
    initializer: e.initializers,
    input: inputs,
    output: [
      ...stateOutputs.map((s) => floatValueInfo(s.name, s.shape)),
      ...perStepOutputs.map((n) => floatValueInfo(n, [])),
    ],
  });
  const rows = objective.usesContrast ? bx + by : bx;
  const weights = slots.filter((s) => s.shape.length === 2).reduce((a, s) => a + s.size, 0);
  return {
    graph,
    paramCount: P,
    slots,
    groups,
    inputs: inputs.map((i) => i.name!),
    outputs: [...stateOutputs.map((s) => s.name), ...perStepOutputs],
    perStepOutputs,
    // forward 2·rows·weights; backward twice that (x̄ and W̄ products)
    matmulFlops: 3 * 2 * rows * weights,
  };
}

/** The weight decay's mask μ of a group: 1 or 0 for all of it, or 0/1 per element of the flat group. */
function decayMaskOf(gr: StateGroup): 0 | 1 | Float32Array {
  if (gr.name !== SMALL_GROUP) return isDecayed(gr.name) ? 1 : 0;
  const mask = new Float32Array(gr.size);
  for (const m of gr.members)
    if (isDecayed(m.name)) mask.fill(1, m.offset - gr.offset, m.offset - gr.offset + m.size);
  return mask.some((v) => v !== 0) ? mask : 0;
}

/**
 * Appends the Adam update of every group's θ, m, v from its gradient (adam.ts semantics, in
 * float32): the scalars once, then one chain of elementwise ops per group.
 */
function emitAdam(
  e: OnnxEmitter,
  grads: { name: string; grad: string; decay: 0 | 1 | Float32Array }[],
  cfg: TrainStepAdam,
): void {
  const b1 = cfg.beta1 ?? 0.9;
  const b2 = cfg.beta2 ?? 0.999;
  const c = (hint: string, v: number) => e.floatConst(hint, v);
  // every optimizer tensor is named ADAM_MARK… or *_next/… (the bench's profile split uses it)
  const n = (op: string, ins: string[], hint: string, attrs: onnxProto.onnx.IAttributeProto[] = []) =>
    e.node(op, ins, e.fresh(`${ADAM_MARK}${hint}`), attrs);
  const keep0 = [{ name: 'keepdims', type: AttrType.INT, i: 0 }];

  // cosine schedule on t = steps done before this one
  const T = Math.max(1, cfg.totalSteps);
  const tc = n('Min', ['step', c('T', cfg.totalSteps)], 'tclip');
  const cosv = n('Cos', [n('Mul', [tc, c('pi_over_T', Math.PI / T)], 'angle')], 'cos');
  e.node('Mul', [n('Add', [cosv, c('one', 1)], 'cos1'), c('half_lr', 0.5 * cfg.lr)], 'lr');

  // global-norm clipping over all groups, folded into the moments' scalar factors
  const sq = grads.map((gr) => n('ReduceSumSquare', [gr.grad], `${gr.name}.g2`, keep0));
  e.node('Sqrt', [sq.length === 1 ? sq[0] : n('Sum', sq, 'g2')], 'grad_norm');
  const clip = c('clip', cfg.clipNorm);
  const shrink = n('Div', [clip, n('Add', ['grad_norm', c('tiny', 1e-6)], 'normeps')], 'shrink');
  const factor = n('Where', [n('Greater', ['grad_norm', clip], 'over'), shrink, c('one', 1)], 'factor');

  // m ← β1·m + ((1−β1)·f)·g;   v ← β2·v + ((1−β2)·f²)·g²
  const mScale = n('Mul', [factor, c('1mb1', 1 - b1)], 'm_scale');
  const vScale = n('Mul', [n('Mul', [factor, factor], 'f2'), c('1mb2', 1 - b2)], 'v_scale');
  // bias corrections at t + 1:  m̂/(√v̂ + ε̂) = m·(√c2/c1) / (√v + ε̂·√c2)
  const t1 = n('Add', ['step', c('one', 1)], 't1');
  const c1 = n('Sub', [c('one', 1), n('Pow', [c('b1', b1), t1], 'b1t')], 'c1');
  const sc2 = n('Sqrt', [n('Sub', [c('one', 1), n('Pow', [c('b2', b2), t1], 'b2t')], 'c2')], 'sqrt_c2');
  const stepSize = n('Div', [n('Mul', ['lr', sc2], 'lr_sc2'), c1], 'step_size');
  const epsHat = n('Mul', [c('adam_eps', cfg.epsilon ?? 1e-8), sc2], 'eps_hat');
  const b1c = c('b1', b1);
  const b2c = c('b2', b2);

  // decoupled weight decay: lr_t·λ, times the mask
  const wd = cfg.weightDecay ?? 0;
  const decayScale = wd > 0 ? n('Mul', ['lr', c('wd', wd)], 'decay_scale') : '';

  for (const { name, grad: g, decay } of grads) {
    const [theta, m, v] = STATE_KINDS.map((k) => stateName(k, name));
    const [thetaNext, mNext, vNext] = STATE_KINDS.map((k) => nextName(k, name));
    e.node('Add', [n('Mul', [m, b1c], 'm_decay'), n('Mul', [g, mScale], 'm_new')], mNext);
    e.node(
      'Add',
      [n('Mul', [v, b2c], 'v_decay'), n('Mul', [n('Mul', [g, g], 'g_sq'), vScale], 'v_new')],
      vNext,
    );
    const denom = n('Add', [n('Sqrt', [vNext], 'v_sqrt'), epsHat], 'denom');
    const update = n('Div', [n('Mul', [mNext, stepSize], 'm_step'), denom], 'update');
    if (wd > 0 && decay !== 0) {
      const scaled =
        decay === 1
          ? decayScale
          : n('Mul', [e.floatVector(`${ADAM_MARK}decay_mask`, decay), decayScale], 'decay_masked');
      const decayed = n('Mul', [theta, scaled], 'decay');
      e.node('Sub', [n('Sub', [theta, update], 'theta_adam'), decayed], thetaNext);
    } else e.node('Sub', [theta, update], thetaNext);
  }
}
