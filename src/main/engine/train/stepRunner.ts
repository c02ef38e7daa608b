/**
 * One optimizer step of a flow objective, behind one interface so the training loop (trainer.ts)
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
  /**
   * Runs one step on the batches in `x` [Bx·D] and `y` [By·D] (null without contrast). A step
   * whose loss is not finite leaves the parameters and optimizer state unchanged.
   */
  step(x: Float32Array, y: Float32Array | null): Promise<StepResult>;
  /** current parameters (copies) */
  snapshot(): ParamMap;
  dispose(): Promise<void>;
}
