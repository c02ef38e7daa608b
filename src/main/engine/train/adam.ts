/**
 * Adam with bias correction, cosine learning-rate decay, global gradient-norm clipping and
 * decoupled weight decay (AdamW) on the subnet weights:
 *   lr_t = lr · ½(1 + cos(π·t/T))
 *   g   ← g · min(1, c / ‖g‖₂)                      (‖g‖₂ over all parameters together)
 *   m   ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
 *   θ   ← θ − lr_t · m̂ / (√v̂ + ε̂) − lr_t·λ·μ⊙θ,  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
 * with λ the weight decay and μ the decay mask (1 on the subnets' weight matrices w1, w2, w3,
 * which pulls each coupling block towards the identity; 0 on biases and the global affine).
 * Written out (not tf.train.adam) so the schedule and clipping are explicit and portable to
 * the ONNX training graph.
 */
import * as tf from '@tensorflow/tfjs';

export interface AdamConfig {
  lr: number;
  totalSteps: number;
  clipNorm: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** decoupled weight decay λ on the masked parameters (0 or absent: none) */
  weightDecay?: number;
}

/** Whether a flow parameter is decayed by the weight decay: the subnets' weight matrices. */
export function isDecayed(name: string): boolean {
  return /(^|\.)w[123]$/.test(name);
}

export function cosineLr(lr: number, step: number, total: number): number {
  return lr * 0.5 * (1 + Math.cos((Math.PI * Math.min(step, total)) / Math.max(1, total)));
}

export class Adam {
  private readonly m: Map<string, tf.Variable>;
  private readonly v: Map<string, tf.Variable>;
  private t = 0;

  /**
   * @param decayMask per variable: the mask μ of the weight decay (a tensor like the variable,
   *   or 1 / 0 for all of it); variables without an entry are not decayed
   */
  constructor(
    private readonly vars: Record<string, tf.Variable>,
    private readonly cfg: AdamConfig,
    private readonly decayMask: Record<string, tf.Tensor | 0 | 1> = {},
  ) {
    this.m = new Map();
    this.v = new Map();
    for (const [k, p] of Object.entries(vars)) {
      // tf.variable shares the initial tensor's buffer: dispose those tensors, or they leak
      const zm = tf.zerosLike(p);
      const zv = tf.zerosLike(p);
      this.m.set(k, tf.variable(zm, false));
      this.v.set(k, tf.variable(zv, false));
      tf.dispose([zm, zv]);
    }
  }

  /** Applies one update from `grads`; returns the gradient norm before clipping and the lr used. */
  apply(grads: Record<string, tf.Tensor>): { gradNorm: number; lr: number } {
    const b1 = this.cfg.beta1 ?? 0.9;
    const b2 = this.cfg.beta2 ?? 0.999;
    const eps = this.cfg.epsilon ?? 1e-8;
    const lr = cosineLr(this.cfg.lr, this.t, this.cfg.totalSteps);
    this.t += 1;
    const c1 = 1 - Math.pow(b1, this.t);
    const c2 = 1 - Math.pow(b2, this.t);
    const normT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
    const gradNorm = normT.dataSync()[0];
    normT.dispose();
    const factor = gradNorm > this.cfg.clipNorm ? this.cfg.clipNorm / (gradNorm + 1e-6) : 1;
    tf.tidy(() => {
      for (const [k, p] of Object.entries(this.vars)) {
        const g = factor === 1 ? grads[k] : tf.mul(grads[k], factor);
        const m = this.m.get(k)!;
        const v = this.v.get(k)!;
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
        const update = tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), eps));
        const mask = this.decayMask[k] ?? 0;
        const wd = this.cfg.weightDecay ?? 0;
        if (wd > 0 && mask !== 0) {
          const decay = mask === 1 ? tf.mul(p, lr * wd) : tf.mul(tf.mul(p, mask), lr * wd);
          p.assign(tf.sub(tf.sub(p, update), decay));
        } else p.assign(tf.sub(p, update));
      }
    });
    return { gradNorm, lr };
  }

  dispose(): void {
    for (const t of [...this.m.values(), ...this.v.values()]) t.dispose();
  }
}
