/**
 * The TensorFlow.js step runner: the objective graph under tf.variableGrads, then Adam
 * (adam.ts) on tf.Variables laid out by trainableParams.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { ParamMap } from '../flow/params';
import type { FlowSpec } from '../flow/spec';
import { runTfGraph } from '../flow/tfjsExecutor';
import { Adam, isDecayed, type AdamConfig } from './adam';
import type { ObjectiveGraph } from './objectives/types';
import type { StepResult, StepRunner } from './stepRunner';
import { TrainableParams, type ParamLayout } from './trainableParams';

export interface TfjsStepRunnerOptions {
  spec: FlowSpec;
  objective: ObjectiveGraph;
  bx: number;
  by: number;
  params: ParamMap;
  adam: AdamConfig;
  eps: number;
  paramLayout?: ParamLayout;
}

export class TfjsStepRunner implements StepRunner {
  readonly backend = `tfjs-${tf.getBackend()}`;
  /** one step per call: tfjs dispatches kernel by kernel, so nothing is saved by batching calls */
  readonly maxStepsPerCall = 1;
  private readonly trainable: TrainableParams;
  private readonly adam: Adam;
  private epsT: tf.Scalar | null;

  /** the clamp ε of the next steps (setEps) */
  private eps: number;

  constructor(private readonly o: TfjsStepRunnerOptions) {
    this.eps = o.eps;
    this.trainable = new TrainableParams(o.spec, o.params, o.paramLayout);
    this.adam = new Adam(this.trainable.vars, o.adam, this.trainable.decayMask(isDecayed));
    this.epsT = o.objective.usesEps ? tf.scalar(o.eps) : null;
  }

  async steps(n: number, xs: Float32Array, ys: Float32Array | null): Promise<StepResult[]> {
    if (n !== 1) throw new Error(`tfjs trainer: runs one step per call, asked for ${n}`);
    return [this.step(xs, ys)];
  }

  private step(xBuf: Float32Array, yBuf: Float32Array | null): StepResult {
    const { spec, objective, bx, by } = this.o;
    const kept: { inlierNll?: tf.Tensor; contrastNll?: tf.Tensor; contrastLogp?: tf.Tensor } = {};
    const { value, grads: gradsByVarName } = tf.variableGrads(() => {
      const feeds: Record<string, tf.Tensor> = {
        ...this.trainable.feeds(),
        x: tf.tensor2d(xBuf, [bx, spec.dim]),
      };
      if (objective.usesContrast) feeds.y = tf.tensor2d(yBuf!, [by, spec.dim]);
      if (this.epsT) feeds.eps = this.epsT;
      const env = runTfGraph(objective.graph, feeds);
      kept.inlierNll = tf.keep(env.inlierNll);
      if (env.contrastNll) kept.contrastNll = tf.keep(env.contrastNll);
      if (env.contrastLogp) kept.contrastLogp = tf.keep(env.contrastLogp);
      return env.loss as tf.Scalar;
    }, Object.values(this.trainable.vars));
    const grads = this.trainable.gradsByKey(gradsByVarName);
    const loss = value.dataSync()[0];
    const inlierNll = kept.inlierNll!.dataSync()[0];
    const contrastNll = kept.contrastNll ? kept.contrastNll.dataSync()[0] : NaN;
    let above = NaN;
    if (kept.contrastLogp) {
      const lpy = kept.contrastLogp.dataSync();
      let c = 0;
      for (let i = 0; i < lpy.length; i++) if (lpy[i] > this.eps) c++;
      above = c / lpy.length;
    }
    tf.dispose([value, kept.inlierNll!, kept.contrastNll ?? [], kept.contrastLogp ?? []].flat());
    let lr = NaN;
    if (Number.isFinite(loss)) lr = this.adam.apply(grads).lr;
    tf.dispose(Object.values(grads));
    return { loss, inlierNll, contrastNll, contrastAboveEps: above, lr };
  }

  setEps(eps: number): void {
    if (!this.epsT) return;
    this.epsT.dispose();
    this.epsT = tf.scalar(eps);
    this.eps = eps;
  }

  snapshot(): ParamMap {
    return this.trainable.snapshot();
  }

  async dispose(): Promise<void> {
    this.adam.dispose();
    this.trainable.dispose();
    this.epsT?.dispose();
  }
}
