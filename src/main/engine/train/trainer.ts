/**
 * The training loop shared by every flow-based method: batches of inliers (+ contrast),
 * Gaussian training noise, data-dependent init of each block's global affine, Adam with
 * cosine decay, clipping and weight decay, held-out inlier NLL, model selection (the parameters
 * of the evaluation with the lowest held-out NLL), early stopping, tracking ε (epsTracking.ts),
 * NaN/Inf guard, progress and cancellation. The objective is a graph (see objectives/); this file only feeds it to a
 * step runner (stepRunner.ts): TensorFlow.js autodiff, or the ONNX Runtime training step.
 */
import * as tf from '@tensorflow/tfjs';
import { flowLogProb, logProbGraphOf, paramTensors, type FlowModel } from '../flow/flowModel';
import { cloneParams, inverseSoftplus, type ParamMap } from '../flow/params';
import type { FlowSpec } from '../flow/spec';
import { runTfGraph } from '../flow/tfjsExecutor';
import { CancelledError, UserError } from '../util/errors';
import type { Matrix } from '../util/matrix';
import { Rng } from '../util/rng';
import { chooseTrainBackend, type TrainBackendChoice } from '../backend/trainBackend';
import { noisyCopies, trackedEps, type EpsTrackingRule } from './epsTracking';
import type { ContrastBackward, ObjectiveBuilder } from './objectives/types';
import { OrtStepRunner } from './ort/ortStepRunner';
import type { StepResult, StepRunner } from './stepRunner';
import { TfjsStepRunner } from './tfjsStepRunner';
import type { ParamLayout } from './trainableParams';

export interface TrainConfig {
  steps: number;
  batchSize: number;
  lr: number;
  clipNorm: number;
  /** σ of the Gaussian noise added to every training batch (0 = none) */
  noiseStd: number;
  /** evaluate held-out NLL every this many steps */
  evalEvery: number;
  /** stop after this many evaluations without held-out improvement (0 = run the full budget) */
  patience: number;
  seed: number;
  /** decoupled weight decay λ on the subnet weights (adam.ts; 0 = none) */
  weightDecay: number;
  /**
   * return the parameters of the held-out evaluation with the lowest NLL, not the last step's
   * (early stopping always returns those)
   */
  restoreBest: boolean;
}

export const DEFAULT_TRAIN: TrainConfig = {
  steps: 1000,
  batchSize: 256,
  lr: 1e-3,
  clipNorm: 10,
  noiseStd: 0.01,
  evalEvery: 100,
  patience: 0,
  seed: 0,
  weightDecay: 0,
  restoreBest: false,
};

export type Contrast = Matrix | 'permutation' | null;

export interface TrainProgress {
  phase: string;
  step: number;
  totalSteps: number;
  loss: number;
  inlierNll: number;
  /** mean −log p of the contrast batch (NaN without contrast) */
  contrastNll: number;
  /** share of contrast points with log p > ε in the last batch: 0 means the contrast term is off */
  contrastAboveEps: number;
  heldOutNll: number | null;
  /** the clamp ε in use (objectives with ε) */
  eps?: number;
  lr: number;
  stepsPerSec: number;
  etaSeconds: number;
}

export interface LossPoint {
  step: number;
  loss: number;
  inlierNll: number;
  contrastNll: number;
  contrastAboveEps: number;
  heldOutNll: number | null;
  /** tracking ε: the value set at this evaluation */
  eps?: number;
}

export interface TrainResult {
  params: ParamMap;
  history: LossPoint[];
  steps: number;
  seconds: number;
  stepsPerSec: number;
  stoppedEarly: boolean;
  /** held-out NLL of the returned parameters (null without held-out rows) */
  finalHeldOutNll: number | null;
  /** the step whose parameters are returned (< steps when the best evaluation came earlier) */
  bestStep: number;
  /** the clamp ε at the end of training (objectives with ε) */
  eps: number | null;
  /** mean share of contrast points above ε over the last 10 % of steps */
  contrastAboveEps: number;
  /** the training backend that ran: 'ort-cpu' or 'tfjs-<tf backend>' */
  backend: string;
  /** why that backend (see backend/trainBackend.ts) */
  backendDetail: string;
}

export interface TrainOptions {
  spec: FlowSpec;
  objective: ObjectiveBuilder;
  inliers: Matrix;
  heldOut: Matrix | null;
  contrast: Contrast;
  eps?: number;
  /** let ε follow the held-out inliers (epsTracking.ts); `eps` is then ignored */
  epsTracking?: EpsTrackingRule;
  /**
   * 'permutation': the training rows are drawn from the product of the marginals of `inliers`
   * (a fresh sample every batch: the contrast flow of Flow-ratio with permutation contrast)
   */
  inlierSampling?: 'rows' | 'permutation';
  config: TrainConfig;
  /** start from these parameters (fine-tuning) instead of a fresh init */
  init: ParamMap;
  /** run the data-dependent init of the global affine layers first */
  dataInit: boolean;
  phase?: string;
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  /** how often to call onProgress, in steps */
  progressEvery?: number;
  /** how parameters are held as variables (tfjs backend; see trainableParams.ts); 'auto' by default */
  paramLayout?: ParamLayout;
  /** 'ort' (ONNX Runtime training step), 'tfjs', or 'auto' (ort when it runs); env CFSTUDIO_TRAIN_BACKEND */
  trainBackend?: TrainBackendChoice;
  /** ort backend: steps per ONNX Runtime call (default DEFAULT_ORT_STEPS_PER_CALL); results do not depend on it */
  ortStepsPerCall?: number;
  /**
   * objectives with a clamp (CF): back-propagate every contrast row ('dense') or only those above
   * ε ('sparse', the same update); 'auto' (default): sparse on ort. The tfjs backend always runs
   * the dense step (tfjs-wasm's reductions over a batch of no rows — no contrast row above ε —
   * return uninitialized memory). Env CFSTUDIO_CONTRAST_BACKWARD when not set here.
   */
  contrastBackward?: ContrastBackward;
}

const CONTRAST_BACKWARDS: ContrastBackward[] = ['auto', 'sparse', 'dense'];

/** Whether the step back-propagates only the contrast rows above ε (see TrainOptions). */
export function useSparseContrast(choice: ContrastBackward | undefined, backend: 'ort' | 'tfjs'): boolean {
  const env = process.env.CFSTUDIO_CONTRAST_BACKWARD;
  const c = choice ?? (env ? (env as ContrastBackward) : 'auto');
  if (!CONTRAST_BACKWARDS.includes(c))
    throw new UserError(
      `CFSTUDIO_CONTRAST_BACKWARD=${env} is not one of ${CONTRAST_BACKWARDS.join(', ')}`,
      'unset it, or set auto, sparse or dense',
    );
  return backend === 'ort' && c !== 'dense';
}

/** Draws batches: epochs over shuffled rows; permutation contrast = product of the marginals. */
class Batcher {
  private order: Int32Array;
  private pos = 0;
  constructor(
    private readonly m: Matrix,
    private readonly rng: Rng,
  ) {
    this.order = rng.permutation(m.rows);
  }
  next(n: number, noiseStd: number, out: Float32Array): void {
    const c = this.m.cols;
    for (let i = 0; i < n; i++) {
      if (this.pos >= this.order.length) {
        this.rng.shuffle(this.order);
        this.pos = 0;
      }
      const r = this.order[this.pos++];
      for (let j = 0; j < c; j++) out[i * c + j] = this.m.data[r * c + j];
    }
    if (noiseStd > 0) for (let i = 0; i < n * c; i++) out[i] += noiseStd * this.rng.normal();
  }
  /** each column drawn from an independent random row: a sample of Π_j p(x_j) */
  permuted(n: number, noiseStd: number, out: Float32Array): void {
    const c = this.m.cols;
    const rows = this.m.rows;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < c; j++) out[i * c + j] = this.m.data[this.rng.int(rows) * c + j];
    if (noiseStd > 0) for (let i = 0; i < n * c; i++) out[i] += noiseStd * this.rng.normal();
  }
}

/**
 * Sets each block's global affine from data so its output has zero mean and unit variance
 * per dimension (g = 1/std, b = −mean/std), block by block on one inlier batch.
 */
export function dataInitAffine(spec: FlowSpec, params: ParamMap, batch: Matrix): void {
  const graph = logProbGraphOf(spec);
  for (let k = 0; k < spec.blocks; k++) {
    const pre = tf.tidy(() => {
      const feeds = paramTensors(spec, params);
      const env = runTfGraph(graph, { ...feeds, x: tf.tensor2d(batch.data, [batch.rows, batch.cols]) });
      return env[`b${k}.pre_affine`];
    });
    const v = pre.dataSync() as Float32Array;
    pre.dispose();
    const d = spec.dim;
    const gamma = params[`b${k}.gamma`];
    const beta = params[`b${k}.beta`];
    for (let j = 0; j < d; j++) {
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < batch.rows; i++) {
        const x = v[i * d + j];
        s += x;
        s2 += x * x;
      }
      const mean = s / batch.rows;
      const std = Math.sqrt(Math.max(s2 / batch.rows - mean * mean, 0)) + 1e-6;
      gamma[j] = inverseSoftplus(1 / std);
      beta[j] = -mean / std;
    }
  }
}

/** Mean −log p over the rows of x (evaluation, no noise). */
export function meanNll(model: FlowModel, x: Matrix): number {
  const graph = logProbGraphOf(model.spec);
  const rows = Math.min(x.rows, 4096);
  const t = tf.tidy(() => {
    const feeds = paramTensors(model.spec, model.params);
    const xt = tf.tensor2d(x.data.subarray(0, rows * x.cols), [rows, x.cols]);
    return tf.neg(tf.mean(runTfGraph(graph, { ...feeds, x: xt })['logp']));
  });
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** rows of held-out inliers (noisy copies) and of contrast that tracking ε scores at each evaluation */
export const EPS_TRACK_ROWS = 512;

/** wall time one multi-step call should take at most (progress and cancellation wait for it) */
export const CALL_TARGET_MS = 2000;

/**
 * Steps for the runner's next call: as many as fit in CALL_TARGET_MS at the last call's speed
 * (one before any call), at most maxPerCall, never past the end or the next held-out
 * evaluation (which must see the parameters of exactly its step).
 */
export function stepsForNextCall(o: {
  maxPerCall: number;
  /** ms per step of the last call; 0 before the first */
  msPerStep: number;
  remaining: number;
  toNextEval: number;
}): number {
  const fit = o.msPerStep > 0 ? Math.floor(CALL_TARGET_MS / o.msPerStep) : 1;
  return Math.max(1, Math.min(o.maxPerCall, fit, o.remaining, o.toNextEval));
}

const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function trainFlow(o: TrainOptions): Promise<TrainResult> {
  const { spec, config } = o;
  const phase = o.phase ?? 'train';
  if (o.inliers.cols !== spec.dim)
    throw new Error(`trainer: inliers have ${o.inliers.cols} columns, flow ${spec.dim}`);
  const rng = new Rng(config.seed);
  const permuteRows = o.inlierSampling === 'permutation';
  const bx = permuteRows ? config.batchSize : Math.min(config.batchSize, o.inliers.rows);
  const inlierBatcher = new Batcher(o.inliers, rng.fork());
  const nextInliers = (n: number, out: Float32Array): void =>
    permuteRows
      ? inlierBatcher.permuted(n, config.noiseStd, out)
      : inlierBatcher.next(n, config.noiseStd, out);
  const objective = o.objective(spec, bx, bx);
  const contrastRng = rng.fork();
  let contrastBatcher: Batcher | null = null;
  if (objective.usesContrast) {
    if (o.contrast === null)
      // fitDetector checks the method's contrast first (checkContrast): this is a bug if reached
      throw new Error(`${phase}: the objective uses contrast data and none was given`);
    contrastBatcher = new Batcher(o.contrast === 'permutation' ? o.inliers : o.contrast, contrastRng);
    if (o.contrast !== 'permutation' && o.contrast.cols !== spec.dim) {
      throw new UserError(
        `contrast data have ${o.contrast.cols} columns, inliers ${spec.dim}`,
        'use contrast data with the same features as the inliers',
      );
    }
  }
  const by = bx;
  const params = cloneParams(o.init);

  if (o.dataInit) {
    const initRows = permuteRows ? Math.max(bx, 512) : Math.min(o.inliers.rows, Math.max(bx, 512));
    const initBuf = new Float32Array(initRows * spec.dim);
    const initBatcher = new Batcher(o.inliers, rng.fork());
    if (permuteRows) initBatcher.permuted(initRows, config.noiseStd, initBuf);
    else initBatcher.next(initRows, config.noiseStd, initBuf);
    dataInitAffine(spec, params, { rows: initRows, cols: spec.dim, data: initBuf });
  }

  const evaluates = o.heldOut !== null && o.heldOut.rows > 0;
  // tracking ε: fixed noisy copies of the held-out inliers (or, without any, of the training
  // inliers) and a fixed noisy sample of the contrast, scored at each evaluation
  const tracking = o.epsTracking && objective.usesEps ? o.epsTracking : null;
  let trackSets: { inliers: Matrix; contrast: Matrix } | null = null;
  if (tracking) {
    const trackRng = rng.fork();
    const normal = () => trackRng.normal();
    const base = evaluates ? o.heldOut! : o.inliers;
    const inl = noisyCopies(
      base,
      Math.max(1, Math.ceil(EPS_TRACK_ROWS / base.rows)),
      config.noiseStd,
      normal,
    );
    const cRows = new Float32Array(EPS_TRACK_ROWS * spec.dim);
    const cb = new Batcher(
      o.contrast === 'permutation' || o.contrast === null ? o.inliers : o.contrast,
      trackRng,
    );
    if (o.contrast === 'permutation') cb.permuted(EPS_TRACK_ROWS, config.noiseStd, cRows);
    else cb.next(EPS_TRACK_ROWS, config.noiseStd, cRows);
    trackSets = { inliers: inl, contrast: { rows: EPS_TRACK_ROWS, cols: spec.dim, data: cRows } };
  }
  const epsFor = (p: ParamMap): number =>
    trackedEps(
      tracking!,
      flowLogProb({ spec, params: p }, trackSets!.inliers),
      flowLogProb({ spec, params: p }, trackSets!.contrast),
    );
  let eps = tracking ? epsFor(params) : (o.eps ?? 0);

  const decision = await chooseTrainBackend(o.trainBackend);
  const adamCfg = {
    lr: config.lr,
    totalSteps: config.steps,
    clipNorm: config.clipNorm,
    weightDecay: config.weightDecay,
  };
  // the step's graph: the objective, or its sparse-contrast form (same loss and update)
  const stepObjective =
    objective.sparseContrast && useSparseContrast(o.contrastBackward, decision.kind)
      ? objective.sparseContrast()
      : objective;
  const runnerOptions = { spec, objective: stepObjective, bx, by, params, adam: adamCfg, eps };
  const runner: StepRunner =
    decision.kind === 'ort'
      ? await OrtStepRunner.create({ ...runnerOptions, stepsPerCall: o.ortStepsPerCall })
      : new TfjsStepRunner({ ...runnerOptions, paramLayout: o.paramLayout });
  const history: LossPoint[] = [];
  const every = o.progressEvery ?? 10;
  const t0 = performance.now();
  let best = Infinity;
  let bestParams: ParamMap | null = null;
  let bestStep = 0;
  let sinceBest = 0;
  let stoppedEarly = false;
  let heldOutNll: number | null = null;
  let step = 0;
  const aboveShares: number[] = [];

  const snapshot = (): ParamMap => runner.snapshot();

  try {
    // K = runner.maxStepsPerCall steps per call; a call never runs past the next held-out
    // evaluation, so evaluations and early stopping see the parameters of exactly that step
    const K = runner.maxStepsPerCall;
    const xBuf = new Float32Array(K * bx * spec.dim);
    const yBuf = new Float32Array(K * by * spec.dim);
    let pending: StepResult[] = [];
    let msPerStep = 0; // of the last call; 0 before the first (which then runs one step)
    for (step = 1; step <= config.steps; step++) {
      if (pending.length === 0) {
        if (o.signal?.aborted) throw new CancelledError(`training (${phase}) at step ${step}`);
        const n = stepsForNextCall({
          maxPerCall: K,
          msPerStep,
          remaining: config.steps - step + 1,
          toNextEval: evaluates ? config.evalEvery - ((step - 1) % config.evalEvery) : Infinity,
        });
        for (let k = 0; k < n; k++) {
          nextInliers(bx, xBuf.subarray(k * bx * spec.dim));
          if (contrastBatcher) {
            const yk = yBuf.subarray(k * by * spec.dim);
            if (o.contrast === 'permutation') contrastBatcher.permuted(by, config.noiseStd, yk);
            else contrastBatcher.next(by, config.noiseStd, yk);
          }
        }
        const tCall = performance.now();
        pending = await runner.steps(n, xBuf, contrastBatcher ? yBuf : null);
        msPerStep = (performance.now() - tCall) / n;
      }
      const { loss, inlierNll, contrastNll, contrastAboveEps: above, lr } = pending.shift()!;
      if (!Number.isFinite(loss)) {
        throw new UserError(
          `training (${phase}) diverged at step ${step}: the loss became ${loss}`,
          'lower the learning rate, raise the training noise, check the data for extreme values, or use a fixed ε',
        );
      }
      if (step > config.steps * 0.9 && !Number.isNaN(above)) aboveShares.push(above);

      const evalNow = evaluates && (step % config.evalEvery === 0 || step === config.steps);
      let epsSet: number | undefined;
      if (evalNow) {
        const p = snapshot();
        heldOutNll = meanNll({ spec, params: p }, o.heldOut!);
        if (heldOutNll < best - 1e-4) {
          best = heldOutNll;
          bestParams = p;
          bestStep = step;
          sinceBest = 0;
        } else sinceBest++;
        if (tracking && step < config.steps) {
          eps = epsFor(p);
          epsSet = eps;
          runner.setEps(eps);
        }
      } else if (tracking && !evaluates && step % config.evalEvery === 0 && step < config.steps) {
        eps = epsFor(snapshot());
        epsSet = eps;
        runner.setEps(eps);
      }
      const point: LossPoint = {
        step,
        loss,
        inlierNll,
        contrastNll,
        contrastAboveEps: above,
        heldOutNll: evalNow ? heldOutNll : null,
        ...(epsSet !== undefined ? { eps: epsSet } : {}),
      };
      if (step % every === 0 || step === 1 || step === config.steps || evalNow) history.push(point);
      if (o.onProgress && (step % every === 0 || step === config.steps)) {
        const elapsed = (performance.now() - t0) / 1000;
        const rate = step / elapsed;
        o.onProgress({
          phase,
          step,
          totalSteps: config.steps,
          loss,
          inlierNll,
          contrastNll,
          contrastAboveEps: above,
          heldOutNll,
          ...(objective.usesEps ? { eps } : {}),
          lr,
          stepsPerSec: rate,
          etaSeconds: (config.steps - step) / rate,
        });
      }
      if (config.patience > 0 && sinceBest >= config.patience) {
        stoppedEarly = true;
        break;
      }
      if (step % 5 === 0) await yieldToEventLoop();
    }
    const stepsDone = Math.min(step, config.steps);
    const useBest = bestParams !== null && (stoppedEarly || config.restoreBest);
    const final = useBest ? bestParams! : snapshot();
    const seconds = (performance.now() - t0) / 1000;
    return {
      params: final,
      history,
      steps: stepsDone,
      seconds,
      stepsPerSec: stepsDone / seconds,
      stoppedEarly,
      finalHeldOutNll: useBest ? best : heldOutNll,
      bestStep: useBest ? bestStep : stepsDone,
      eps: objective.usesEps ? eps : null,
      contrastAboveEps: aboveShares.length
        ? aboveShares.reduce((a, b) => a + b, 0) / aboveShares.length
        : NaN,
      backend: runner.backend,
      backendDetail: decision.detail,
    };
  } finally {
    await runner.dispose();
  }
}
