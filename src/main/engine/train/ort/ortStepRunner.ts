/**
 * The ONNX Runtime step runner: up to K training steps per session.run, in the Loop graph of
 * trainLoopGraph.ts (the one-step graph of trainStepGraph.ts as its body).
 *
 * State across calls: θ, m, v stay ort.Tensors. A call's outputs θ', m', v' are fed as the next
 * call's inputs as they are — no copy or allocation by us. onnxruntime-node 1.30 hands every
 * output back in a fresh JS buffer; preallocated outputs do not avoid that (the binding writes
 * our buffer, then copies it into a new one anyway) and measured ~10 ms slower per call for the
 * 3 × 11.6 MB state of the D=128/H=512 flow, so no outputs are preallocated. Running K steps per
 * call pays that copy once per K steps. Inputs are not copied by the binding: the batch tensors
 * wrap the caller's batch buffers. A call with a non-finite loss is not adopted: the state from
 * before the call stays current.
 */
import os from 'node:os';
import * as ort from 'onnxruntime-node';
import type { ParamMap } from '../../flow/params';
import type { FlowSpec } from '../../flow/spec';
import type { ObjectiveGraph } from '../objectives/types';
import type { StepResult, StepRunner } from '../stepRunner';
import type { ProviderName } from '../../backend/ortProviders';
import { openOrtSession, type ProviderAttempt } from '../../features/ortSession';
import { buildTrainLoopModel, type TrainLoopModel } from './trainLoopGraph';
import type { TrainStepAdam } from './trainStepGraph';

export interface OrtStepRunnerOptions {
  spec: FlowSpec;
  objective: ObjectiveGraph;
  bx: number;
  by: number;
  params: ParamMap;
  adam: TrainStepAdam;
  eps: number;
  /** K, the most steps per session.run (default DEFAULT_ORT_STEPS_PER_CALL) */
  stepsPerCall?: number;
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

/**
 * K steps per call: the 35 MB state copy and the call overhead (~15 ms per call for the
 * D=128/H=512 flow) are paid once per K steps; larger K only delays progress and cancellation.
 */
export const DEFAULT_ORT_STEPS_PER_CALL = 8;

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
  /** 'ort-<provider>': the device the step runs on */
  readonly backend: string;
  readonly maxStepsPerCall: number;
  /** the call's inputs; theta / adam_m / adam_v are replaced by each adopted call's outputs */
  private readonly feeds: Feeds;
  private readonly stepBuf = new Float32Array(1);
  private t = 0;
  private lastOut: ort.InferenceSession.OnnxValueMapType | null = null;

  private constructor(
    private readonly o: OrtStepRunnerOptions,
    readonly model: TrainLoopModel,
    private readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    /** providers tried before it, with the reason each was not used */
    readonly attempts: ProviderAttempt[],
  ) {
    this.backend = `ort-${provider}`;
    this.maxStepsPerCall = o.stepsPerCall ?? DEFAULT_ORT_STEPS_PER_CALL;
    if (!Number.isInteger(this.maxStepsPerCall) || this.maxStepsPerCall < 1)
      throw new Error(`ort trainer: stepsPerCall must be an integer ≥ 1, got ${this.maxStepsPerCall}`);
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
    const model = buildTrainLoopModel(o);
    // the device asked for (CFSTUDIO_DEVICE), then the CPU: a provider that cannot run the step
    // graph is passed over with its reason
    let opened;
    try {
      opened = await openOrtSession(model.bytes, { sessionOptions: trainSessionOptions(o) });
    } catch (e) {
      throw new Error(
        `ort trainer: ONNX Runtime could not load the training graph: ${(e as Error).message.split('\n')[0]}; ` +
          'train with the TensorFlow.js backend instead (CFSTUDIO_TRAIN_BACKEND=tfjs)',
      );
    }
    return new OrtStepRunner(o, model, opened.session, opened.provider, opened.attempts);
  }

  async steps(n: number, xs: Float32Array, ys: Float32Array | null): Promise<StepResult[]> {
    if (!Number.isInteger(n) || n < 1 || n > this.maxStepsPerCall)
      throw new Error(`ort trainer: asked for ${n} steps in one call, which runs 1–${this.maxStepsPerCall}`);
    const { bx, by, spec } = this.o;
    if (xs.length < n * bx * spec.dim)
      throw new Error(`ort trainer: ${n} inlier batches need ${n * bx * spec.dim} values, got ${xs.length}`);
    const feeds = this.feeds;
    // n batches: the Loop runs one step per batch (views of the caller's buffers, no copy)
    feeds.xs = new ort.Tensor('float32', xs.subarray(0, n * bx * spec.dim), [n, bx, spec.dim]);
    if (this.o.objective.usesContrast) {
      if (!ys || ys.length < n * by * spec.dim)
        throw new Error(`ort trainer: this objective needs ${n} contrast batches`);
      feeds.ys = new ort.Tensor('float32', ys.subarray(0, n * by * spec.dim), [n, by, spec.dim]);
    }
    this.stepBuf[0] = this.t;
    const out = await this.session.run(feeds);
    this.lastOut = out;
    const series = (name: string): Float32Array | null =>
      out[name] ? (out[name].data as Float32Array) : null;
    const loss = series('loss')!;
    const inlier = series('inlier_nll')!;
    const contrast = series('contrast_nll');
    const above = series('contrast_above');
    const lr = series('lr')!;
    const results: StepResult[] = [];
    let finite = true;
    for (let k = 0; k < n; k++) {
      if (!Number.isFinite(loss[k])) finite = false;
      results.push({
        loss: loss[k],
        inlierNll: inlier[k],
        contrastNll: contrast ? contrast[k] : NaN,
        contrastAboveEps: above ? above[k] / by : NaN,
        lr: lr[k],
      });
    }
    if (finite) {
      feeds.theta = out.theta_next as ort.Tensor;
      feeds.adam_m = out.adam_m_next as ort.Tensor;
      feeds.adam_v = out.adam_v_next as ort.Tensor;
      this.t += n;
    }
    return results;
  }

  /** The clamp ε of the next calls (a new scalar input; objectives without ε have none). */
  setEps(eps: number): void {
    if (this.feeds.eps) this.feeds.eps = new ort.Tensor('float32', Float32Array.of(eps), []);
  }

  /** Gradient norm of the last step (before clipping); NaN before the first. */
  get lastGradNorm(): number {
    if (!this.lastOut) return NaN;
    const g = this.lastOut.grad_norm.data as Float32Array;
    return g[g.length - 1];
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
