/**
 * Optimizer steps of a flow objective, behind one interface so the training loop (trainer.ts)
 * is shared by every backend: TensorFlow.js autodiff + Adam (tfjsStepRunner.ts) or the
 * exported ONNX training step in ONNX Runtime (ort/ortStepRunner.ts).
 */
import type { ParamMap } from '../flow/params';

export interface StepResult {
  loss: number;
  inlierNll: number;
  /** NaN without contrast */
  contrastNll: number;
  /** share of contrast points with log p > ε (NaN without contrast) */
  contrastAboveEps: number;
  /** learning rate used by this step */
  lr: number;
}

export interface StepRunner {
  /** 'ort-cpu' or 'tfjs-<tf backend>' */
  readonly backend: string;
  /** the most steps one `steps` call runs (ort: K steps in one ONNX Runtime call; tfjs: 1) */
  readonly maxStepsPerCall: number;
  /**
   * Runs n steps, 1 ≤ n ≤ maxStepsPerCall, on the batches in `xs` (batch k at k·Bx·D, Bx·D
   * each) and `ys` (likewise By·D; null without contrast); one result per step. When a loss is
   * not finite the parameters and optimizer state stay as they were before the call.
   */
  steps(n: number, xs: Float32Array, ys: Float32Array | null): Promise<StepResult[]>;
  /** the clamp ε of the steps that follow (objectives with an ε input; others ignore it) */
  setEps(eps: number): void;
  /** current parameters (copies) */
  snapshot(): ParamMap;
  dispose(): Promise<void>;
}
