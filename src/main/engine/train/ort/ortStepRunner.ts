/**
 * The ONNX Runtime step runner: the training step of trainStepGraph.ts in one session.
 *
 * State across steps: θ, m, v stay ort.Tensors. Each step's outputs θ', m', v' are fed as the
 * next step's inputs as they are — no copy or allocation by us. onnxruntime-node 1.30 hands
 * every output back in a fresh JS buffer; preallocated outputs do not avoid that (the binding
 * writes our buffer, then copies it into a new one anyway) and measured ~10 ms slower per step
 * for the 3 × 11.6 MB state of the D=128/H=512 flow, so no outputs are preallocated. Inputs are
 * not copied by the binding: the batch tensors wrap the trainer's batch buffers, created once.
 * A step with a non-finite loss is not adopted: the previous state stays current.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ParamMap } from '../../flow/params';
import type { FlowSpec } from '../../flow/spec';
import type { ObjectiveGraph } from '../objectives/types';
import type { StepResult, StepRunner } from '../stepRunner';
import { buildTrainStepModel, type TrainStepAdam, type TrainStepModel } from './trainStepGraph';

export interface OrtStepRunnerOptions {
  spec: FlowSpec;
  objective: ObjectiveGraph;
  bx: number;
  by: number;
  params: ParamMap;
  adam: TrainStepAdam;
  eps: number;
  /** intra-op threads (default: the cores available) */
  threads?: number;
  /**
   * let idle intra-op threads spin between kernels (ONNX Runtime's default). Off by default:
   * a step is ~650 kernels, and with another busy process on the machine spinning threads
   * fight it for the cores — measured 3–4× slower steps on this 2-core machine under load.
   */
  spinning?: boolean;
}

type Feeds = Record<string, ort.Tensor>;

/** Session options of the training step (the bench's profiled session uses them too). */
export function trainSessionOptions(o: {
  threads?: number;
  spinning?: boolean;
}): ort.InferenceSession.SessionOptions {
  return {
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: o.threads ?? defaultOrtThreads(),
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: o.spinning ? '1' : '0' } } },
  };
}

/** Default intra-op threads: every core this process may use. */
export function defaultOrtThreads(): number {
  return Math.max(1, os.availableParallelism());
}

export class OrtStepRunner implements StepRunner {
  readonly backend = 'ort-cpu';
  /** the step's inputs; theta / adam_m / adam_v are replaced by each adopted step's outputs */
  private readonly feeds: Feeds;
  private readonly stepBuf = new Float32Array(1);
  private readonly xTensor: { buf: Float32Array | null; t: ort.Tensor | null } = { buf: null, t: null };
  private readonly yTensor: { buf: Float32Array | null; t: ort.Tensor | null } = { buf: null, t: null };
  private t = 0;
  private lastOut: ort.InferenceSession.OnnxValueMapType | null = null;
  /** time spent inside session.run, ms (the rest of a step is the trainer's batching) */
  runMs = 0;

  private constructor(
    private readonly o: OrtStepRunnerOptions,
    readonly model: TrainStepModel,
    private readonly session: ort.InferenceSession,
  ) {
    const P = model.paramCount;
    const theta0 = new Float32Array(P);
    for (const s of model.slots) {
      const p = o.params[s.name];
      if (!p || p.length !== s.size)
        throw new Error(`ort trainer: parameter ${s.name} missing or not of size ${s.size}`);
      theta0.set(p, s.offset);
    }
    this.feeds = {
      theta: new ort.Tensor('float32', theta0, [P]),
      adam_m: new ort.Tensor('float32', new Float32Array(P), [P]),
      adam_v: new ort.Tensor('float32', new Float32Array(P), [P]),
      step: new ort.Tensor('float32', this.stepBuf, []),
    };
    if (model.inputs.includes('eps')) this.feeds.eps = new ort.Tensor('float32', Float32Array.of(o.eps), []);
  }

  static async create(o: OrtStepRunnerOptions): Promise<OrtStepRunner> {
    const model = buildTrainStepModel(o);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(model.bytes, trainSessionOptions(o));
    } catch (e) {
      throw new Error(
        `ort trainer: ONNX Runtime could not load the training-step graph: ${(e as Error).message.split('\n')[0]}; ` +
          'train with the TensorFlow.js backend instead (CFSTUDIO_TRAIN_BACKEND=tfjs)',
      );
    }
    return new OrtStepRunner(o, model, session);
  }

  private batchTensor(slot: typeof this.xTensor, buf: Float32Array, rows: number): ort.Tensor {
    if (slot.buf !== buf) {
      slot.buf = buf;
      slot.t = new ort.Tensor('float32', buf, [rows, this.o.spec.dim]);
    }
    return slot.t!;
  }

  async step(x: Float32Array, y: Float32Array | null): Promise<StepResult> {
    const feeds = this.feeds;
    feeds.x = this.batchTensor(this.xTensor, x, this.o.bx);
    if (this.o.objective.usesContrast) {
      if (!y) throw new Error('ort trainer: this objective needs a contrast batch');
      feeds.y = this.batchTensor(this.yTensor, y, this.o.by);
    }
    this.stepBuf[0] = this.t;
    const t0 = performance.now();
    const out = await this.session.run(feeds);
    this.runMs += performance.now() - t0;
    this.lastOut = out;
    const read = (name: string): number => (out[name] ? (out[name].data as Float32Array)[0] : NaN);
    const loss = read('loss');
    if (Number.isFinite(loss)) {
      feeds.theta = out.theta_next as ort.Tensor;
      feeds.adam_m = out.adam_m_next as ort.Tensor;
      feeds.adam_v = out.adam_v_next as ort.Tensor;
      this.t += 1;
    }
    return {
      loss,
      inlierNll: read('inlier_nll'),
      contrastNll: read('contrast_nll'),
      contrastAboveEps: read('contrast_above') / this.o.by,
      lr: read('lr'),
    };
  }

  /** Gradient norm of the last step (before clipping); NaN before the first. */
  get lastGradNorm(): number {
    return this.lastOut ? (this.lastOut.grad_norm.data as Float32Array)[0] : NaN;
  }

  /** The current flat parameter vector θ (the tensor fed to the next step; not a copy). */
  get theta(): Float32Array {
    return this.feeds.theta.data as Float32Array;
  }

  snapshot(): ParamMap {
    const theta = this.theta;
    const out: ParamMap = {};
    for (const s of this.model.slots) out[s.name] = theta.slice(s.offset, s.offset + s.size);
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
