/**
 * Up to K training steps in one ONNX Runtime call: the one-step graph of trainStepGraph.ts as the
 * body of an ONNX `Loop`,
 *
 *   for k in 0 … n−1:   (θ, m, v) ← step(θ, m, v; x = xs[k], y = ys[k], t = step + k, ε)
 *
 * with n ≤ K given per call (the `steps` input). Why: onnxruntime-node copies every output into
 * a fresh JS buffer, and θ, m, v are 3 × 4·P bytes (35 MB for the D=128/H=512 flow), so one call
 * per step paid that copy — plus the page faults of new buffers and the call itself — every step.
 * Inside the Loop the state passes from one iteration to the next as ONNX Runtime values, with no
 * copy; it reaches JS once per call. The per-step results (loss, NLLs, ‖g‖, lr, counts) come out
 * as [n] vectors (Loop scan outputs). Step k of a call computes exactly what the one-step graph
 * computes on the same inputs (tested bit for bit).
 *
 * Inputs:  steps [] (int64, 1 ≤ n ≤ K); theta, adam_m, adam_v [P]; step [] (float, t of the
 *          first step); xs [K, Bx, D]; ys [K, By, D] and eps [] when the objective uses them.
 * Outputs: theta_next, adam_m_next, adam_v_next [P]; and [n] of each per-step output of the
 *          one-step graph (loss, inlier_nll, grad_norm, lr, contrast_nll, contrast_above, …).
 */
import onnxProto from 'onnx-proto';
import { floatValueInfo, FLOAT } from '../../export/onnxGraph';
import {
  buildTrainStepGraph,
  TRAIN_STEP_OPSET,
  type TrainStepGraphOptions,
  type TrainStepModel,
} from './trainStepGraph';

const { onnx } = onnxProto;
const AttrType = onnx.AttributeProto.AttributeType;
const { INT64, BOOL } = onnx.TensorProto.DataType;

/** The optimizer state carried from step to step (inputs; outputs are `${name}_next`). */
const STATE = ['theta', 'adam_m', 'adam_v'] as const;

export interface TrainLoopModel extends TrainStepModel {
  /** K: the most steps one call runs (the first dimension of xs and ys) */
  maxSteps: number;
  /** outputs with one value per step, [n] */
  perStepOutputs: string[];
}

function valueInfo(name: string, elemType: number, dims: number[]): onnxProto.onnx.ValueInfoProto {
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
  });
}

export function buildTrainLoopModel(o: TrainStepGraphOptions & { maxSteps: number }): TrainLoopModel {
  const K = o.maxSteps;
  if (!Number.isInteger(K) || K < 1)
    throw new Error(`ort trainer: maxSteps must be an integer ≥ 1, got ${K}`);
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
  const perStepOutputs = step.outputs.filter((n) => !STATE.some((s) => n === `${s}_next`));
  const bodyGraph = onnx.GraphProto.create({
    name: 'cfstudio_train_step_body',
    node: [...feedNodes, ...stepNodes],
    initializer: (body.initializer ?? []).map((t) =>
      onnx.TensorProto.create({ ...t, name: inBody(t.name!) }),
    ),
    input: [
      valueInfo('iter', INT64, []),
      valueInfo('cond_in', BOOL, []),
      ...STATE.map((s) => floatValueInfo(inBody(s), [P])),
    ],
    output: [
      valueInfo('cond_out', BOOL, []),
      ...STATE.map((s) => floatValueInfo(inBody(`${s}_next`), [P])),
      ...perStepOutputs.map((n) => floatValueInfo(inBody(n), [])),
    ],
  });

  const inputs = [
    valueInfo('steps', INT64, []),
    ...STATE.map((s) => floatValueInfo(s, [P])),
    floatValueInfo('step', []),
    floatValueInfo('xs', [K, o.bx, D]),
    ...(hasY ? [floatValueInfo('ys', [K, o.by, D])] : []),
    ...(hasEps ? [floatValueInfo('eps', [])] : []),
  ];
  const outputs = [...STATE.map((s) => `${s}_next`), ...perStepOutputs];
  const graph = onnx.GraphProto.create({
    name: 'cfstudio_train_steps',
    node: [
      onnx.NodeProto.create({
        opType: 'Loop',
        // no loop condition: exactly `steps` iterations
        input: ['steps', '', ...STATE],
        output: outputs,
        name: 'steps/Loop',
        attribute: [{ name: 'body', type: AttrType.GRAPH, g: bodyGraph }],
      }),
    ],
    input: inputs,
    output: [
      ...STATE.map((s) => floatValueInfo(`${s}_next`, [P])),
      ...perStepOutputs.map((n) => floatValueInfo(n, ['n'])),
    ],
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'cfstudio',
    docString: `CF Studio flow training: up to ${K} steps (forward, backward, Adam) per call — see train/ort/trainLoopGraph.ts`,
    opsetImport: [{ domain: '', version: TRAIN_STEP_OPSET }],
    graph,
  });
  return {
    bytes: onnx.ModelProto.encode(model).finish(),
    paramCount: P,
    slots: step.slots,
    inputs: inputs.map((i) => i.name!),
    outputs,
    matmulFlops: step.matmulFlops,
    maxSteps: K,
    perStepOutputs,
  };
}
