/**
 * Chooses the training backend of the flows: 'ort' (the exported training step in ONNX Runtime,
 * train/ort/) or 'tfjs' (TensorFlow.js autodiff on the backend of tfjsBackend.ts).
 * 'auto' takes ort when ONNX Runtime loads and runs a one-node probe graph — it is the faster
 * one on CPU (bench/flow-speed.ts: ≈ 10× the tfjs-wasm steps/s) — and tfjs otherwise.
 * `CFSTUDIO_TRAIN_BACKEND` (auto | ort | tfjs) sets the choice when the caller does not.
 */
import os from 'node:os';
import onnxProto from 'onnx-proto';
import { UserError } from '../util/errors';
import { providersForDevice, providerUnavailableReason, requestedDevice } from './ortProviders';
import { initTfjs } from './tfjsBackend';

export type TrainBackendChoice = 'auto' | 'ort' | 'tfjs';

export interface TrainBackendDecision {
  kind: 'ort' | 'tfjs';
  /** what was asked for, and where from */
  requested: TrainBackendChoice;
  source: 'option' | 'env' | 'default';
  /** why this backend runs (and why ort does not, when it does not) */
  detail: string;
}

const CHOICES: TrainBackendChoice[] = ['auto', 'ort', 'tfjs'];

let probe: Promise<string | null> | null = null;

/** Loads onnxruntime-node and runs an Identity graph; null when fine, else the reason. */
async function probeOrt(): Promise<string | null> {
  try {
    const ort = await import('onnxruntime-node');
    const { onnx } = onnxProto;
    const vi = (name: string) =>
      onnx.ValueInfoProto.create({
        name,
        type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }] } } },
      });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: 17 }],
      graph: onnx.GraphProto.create({
        name: 'probe',
        node: [onnx.NodeProto.create({ opType: 'Identity', input: ['a'], output: ['b'] })],
        input: [vi('a')],
        output: [vi('b')],
      }),
    });
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const r = await s.run({ a: new ort.Tensor('float32', Float32Array.of(3), [1]) });
    await s.release();
    if ((r.b.data as Float32Array)[0] !== 3) return 'the probe graph returned a wrong value';
    return null;
  } catch (e) {
    return (e instanceof Error ? e.message : String(e)).split('\n')[0].slice(0, 300);
  }
}

/** Resolves 'auto' / the environment to the backend that will train. */
export async function chooseTrainBackend(requested?: TrainBackendChoice): Promise<TrainBackendDecision> {
  let source: TrainBackendDecision['source'] = 'option';
  let want = requested;
  if (!want || want === 'auto') {
    const env = process.env.CFSTUDIO_TRAIN_BACKEND;
    if (env) {
      if (!CHOICES.includes(env as TrainBackendChoice))
        throw new UserError(
          `CFSTUDIO_TRAIN_BACKEND=${env} is not a training backend`,
          `set it to one of ${CHOICES.join(', ')} or unset it`,
        );
      want = env as TrainBackendChoice;
      source = 'env';
    } else {
      want = 'auto';
      source = requested ? 'option' : 'default';
    }
  }
  const from = source === 'env' ? 'CFSTUDIO_TRAIN_BACKEND' : source === 'option' ? 'the option' : 'default';
  if (want === 'tfjs')
    return { kind: 'tfjs', requested: want, source, detail: `TensorFlow.js, asked for by ${from}` };
  probe ??= probeOrt();
  const failure = await probe;
  if (want === 'ort') {
    if (failure)
      throw new UserError(
        `the ort training backend was asked for (${from}) but ONNX Runtime does not run here: ${failure}`,
        'train with CFSTUDIO_TRAIN_BACKEND=tfjs, or reinstall onnxruntime-node',
      );
    return {
      kind: 'ort',
      requested: want,
      source,
      detail: `ONNX Runtime training step, asked for by ${from}`,
    };
  }
  return failure
    ? {
        kind: 'tfjs',
        requested: want,
        source,
        detail: `auto: ONNX Runtime does not run here (${failure}); TensorFlow.js instead`,
      }
    : {
        kind: 'ort',
        requested: want,
        source,
        detail: 'auto: ONNX Runtime runs here and trains faster than TensorFlow.js on the CPU',
      };
}

/**
 * The backend flows will train on, as `cfstudio info` and the app show it: its name as runs
 * record it ('ort-cpu', 'tfjs-wasm', …) and why it was chosen.
 */
export async function describeTrainBackend(
  requested?: TrainBackendChoice,
): Promise<{ name: string; detail: string; decision: TrainBackendDecision }> {
  const decision = await chooseTrainBackend(requested);
  if (decision.kind === 'ort') {
    // the first provider of the device asked for that can run here (the step may still fall
    // back to the CPU if that provider cannot load the training graph; the run records it)
    const device = requestedDevice();
    const tried = providersForDevice(device).map((p) => ({ p, why: providerUnavailableReason(p) }));
    const use = tried.find((t) => t.why === null)!.p;
    const skipped = tried.filter((t) => t.why !== null).map((t) => `${t.p}: ${t.why}`);
    return {
      name: `ort-${use}`,
      detail:
        `${decision.detail}; device ${device}${use === 'cpu' ? `, ${Math.max(1, os.availableParallelism())} intra-op threads` : ''}` +
        (skipped.length ? `; not used — ${skipped.join('; ')}` : ''),
      decision,
    };
  }
  const tf = await initTfjs();
  return { name: `tfjs-${tf.backend}`, detail: `${decision.detail} (${tf.package})`, decision };
}
