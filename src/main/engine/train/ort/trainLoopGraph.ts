/**
 * Up to K training steps in one ONNX Runtime call: the one-step graph of trainStepGraph.ts as the
 * body of an ONNX `Loop`,
 *
 *   for k in 0 … n−1:   (θ, m, v) ← step(θ, m, v; x = xs[k], y = ys[k], t = step + k, ε)
 *
 * with n = the number of batches in xs. Why: onnxruntime-node copies every output into a fresh
 * JS buffer, and θ, m, v are 3 × 4·P bytes (35 MB for the D=128/H=512 flow), so one call per
 * step paid that copy — plus the page faults of new buffers and the call itself — every step.
 * Inside the Loop the state passes from one iteration to the next as ONNX Runtime values, with
 * no copy, per state group (trainStepGraph.ts): the flat θ, m, v are split into groups before
 * the Loop and concatenated after it, so the state reaches JS once per call. The per-step
 * results (loss, NLLs, ‖g‖, lr, counts) come out as [n] vectors (Loop scan outputs). Step k of a
 * call computes exactly what the one-step graph computes on the same inputs (tested bit for bit).
 * The body's intermediate tensors carry no declared shapes, so a step whose row counts are known
 * only at run time (the sparse CF step, objectives/cfSparse.ts: the contrast rows above ε) runs
 * in the Loop as it is, a different count in each iteration.
 *
 * Inputs:  theta, adam_m, adam_v [P]; step [] (float, t of the first step); xs [n, Bx, D];
 *          ys [n, By, D] and eps [] when the objective uses them.
 * Outputs: theta_next, adam_m_next, adam_v_next [P]; and [n] of each per-step output of the
 *          one-step graph (loss, inlier_nll, grad_norm, lr, contrast_nll, contrast_above, …).
 */
import onnxProto from 'onnx-proto';
import { floatValueInfo, FLOAT, OnnxEmitter } from '../../flow/onnxGraph';
import {
  buildTrainStepGraph,
  concatState,
  nextName,
  splitState,
  STATE_KINDS,
  stateName,
  TRAIN_STEP_OPSET,
  type TrainStepGraphOptions,
  type TrainStepModel,
} from './trainStepGraph';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const { INT64, BOOL } = onnx.TensorProto.DataType;

export interface TrainLoopModel extends TrainStepModel {
  /** outputs with one value per step, [n] */
  perStepOutputs: string[];
}

function valueInfo(name: string, elemType: number, dims: number[]): onnxProto.onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
}

export function buildTrainLoopModel(o: TrainStepGraphOptions): TrainLoopModel {
  const step = buildTrainStepGraph(o);
  const P = step.paramCount;
  const D = o.spec.dim;
  const hasY = step.inputs.includes('y');
  const hasEps = step.inputs.includes('eps');

  // The body is the step graph with every name under 'k/' — a subgraph may not reuse a name of
  // its outer graph — fed by a few nodes that pick iteration k's batch and step number.
  const inBody = (name: string): string => (name === '' ? '' : `k/${name}`);
  const body = step.graph;
  const node = (
    opType: string,
    input: string[],
    output: string,
    attribute: onnxProto.onnx.IAttributeProto[] = [],
  ) => onnx.NodeProto.create({ opType, input, output: [output], name: `${output}/${opType}`, attribute });
  const axis0 = [{ name: 'axis', type: AttrType.INT, i: 0 }];
  const feedNodes = [
    node('Gather', ['xs', 'iter'], inBody('x'), axis0),
    ...(hasY ? [node('Gather', ['ys', 'iter'], inBody('y'), axis0)] : []),
    node('Cast', ['iter'], 'iter_float', [{ name: 'to', type: AttrType.INT, i: FLOAT }]),
    node('Add', ['step', 'iter_float'], inBody('step')),
    ...(hasEps ? [node('Identity', ['eps'], inBody('eps'))] : []),
    node('Identity', ['cond_in'], 'cond_out'),
  ];
  const stepNodes = (body.node ?? []).map((n) =>
    onnx.NodeProto.create({
      ...n,
      input: (n.input ?? []).map(inBody),
      output: (n.output ?? []).map(inBody),
      name: inBody(n.name ?? ''),
    }),
  );
  const { perStepOutputs, groups } = step;
  const carried = STATE_KINDS.flatMap((k) => groups.map((g) => ({ kind: k, group: g })));
  const bodyGraph = onnx.GraphProto.create({
    name: 'cfstudio_train_step_body',
    node: [...feedNodes, ...stepNodes],
    initializer: (body.initializer ?? []).map((t) =>
      onnx.TensorProto.create({ ...t, name: inBody(t.name!) }),
    ),
    input: [
      valueInfo('iter', INT64, []),
      valueInfo('cond_in', BOOL, []),
      ...carried.map((c) => floatValueInfo(inBody(stateName(c.kind, c.group.name)), c.group.shape)),
    ],
    output: [
      valueInfo('cond_out', BOOL, []),
      ...carried.map((c) => floatValueInfo(inBody(nextName(c.kind, c.group.name)), c.group.shape)),
      ...perStepOutputs.map((n) => floatValueInfo(inBody(n), [])),
    ],
  });

  const inputs = [
    ...STATE_KINDS.map((s) => floatValueInfo(s, [P])),
    floatValueInfo('step', []),
    floatValueInfo('xs', ['n', o.bx, D]),
    ...(hasY ? [floatValueInfo('ys', ['n', o.by, D])] : []),
    ...(hasEps ? [floatValueInfo('eps', [])] : []),
  ];
  // flat → groups, the Loop, groups → flat
  const e = new OnnxEmitter('outer/', TRAIN_STEP_OPSET);
  for (const kind of STATE_KINDS) splitState(e, kind, groups, (g) => stateName(kind, g));
  // trip count n = xs's first dimension
  const steps = e.node(
    'Gather',
    [e.node('Shape', ['xs'], e.fresh('xs_shape')), e.int64Scalar('first', 0)],
    e.fresh('steps'),
    axis0,
  );
  e.nodes.push(
    onnx.NodeProto.create({
      opType: 'Loop',
      // no loop condition: exactly `steps` iterations
      input: [steps, '', ...carried.map((c) => stateName(c.kind, c.group.name))],
      output: [...carried.map((c) => nextName(c.kind, c.group.name)), ...perStepOutputs],
      name: 'steps/Loop',
      attribute: [{ name: 'body', type: AttrType.GRAPH, g: bodyGraph }],
    }),
  );
  for (const kind of STATE_KINDS) concatState(e, groups, (g) => nextName(kind, g), `${kind}_next`);
  const outputs = [...STATE_KINDS.map((s) => `${s}_next`), ...perStepOutputs];
  const graph = onnx.GraphProto.create({
    name: 'cfstudio_train_steps',
    node: e.nodes,
    initializer: e.initializers,
    input: inputs,
    output: [
      ...STATE_KINDS.map((s) => floatValueInfo(`${s}_next`, [P])),
      ...perStepOutputs.map((n) => floatValueInfo(n, ['n'])),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cfstudio',
    docString:
      'CF Studio flow training: one step (forward, backward, Adam) per batch of xs in one call — see train/ort/trainLoopGraph.ts',
    opsetImport: [{ domain: '', version: TRAIN_STEP_OPSET }],
    graph,
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    paramCount: P,
    slots: step.slots,
    groups,
    inputs: inputs.map((i) => i.name!),
    outputs,
    matmulFlops: step.matmulFlops,
    perStepOutputs,
  };
}
