/**
 * The flow's parameters as tf.Variables during training, in one of two layouts:
 *  - 'flat': one variable θ holding every parameter, split into views on each step. Adam then
 *    runs a dozen ops per step instead of a dozen per parameter — op dispatch dominates small
 *    flows on wasm (tables: ~25 % faster per step).
 *  - 'split': one variable per parameter. On wasm, tf.split/slice copy the *whole* input out of
 *    wasm memory for every part, so for large flows (D=128, H=512: 2.9 M values × 64 parts) the
 *    flat layout would copy ~740 MB per step; there per-parameter variables win.
 * 'auto' picks 'flat' up to FLAT_MAX_VALUES values. Both give identical results (tested).
 */
import * as tf from '@tensorflow/tfjs';
import { flowParamShapes } from '../flow/flowGraph';
import type { ParamMap } from '../flow/params';
import type { FlowSpec } from '../flow/spec';

export type ParamLayout = 'flat' | 'split' | 'auto';
export const FLAT_MAX_VALUES = 262_144;

let counter = 0;

export class TrainableParams {
  readonly layout: 'flat' | 'split';
  /** variables by name, for the optimizer ('theta' in the flat layout) */
  readonly vars: Record<string, tf.Variable> = {};
  private readonly shapes;
  private readonly sizes: number[];
  private readonly byVarName: Record<string, string> = {};
  private mask: tf.Tensor | null = null;

  constructor(spec: FlowSpec, params: ParamMap, layout: ParamLayout = 'auto') {
    this.shapes = flowParamShapes(spec);
    this.sizes = this.shapes.map((p) => p.shape.reduce((a, b) => a * b, 1));
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.layout = layout === 'auto' ? (total <= FLAT_MAX_VALUES ? 'flat' : 'split') : layout;
    const id = counter++;
    if (this.layout === 'flat') {
      const flat = new Float32Array(total);
      let off = 0;
      this.shapes.forEach((p, i) => {
        flat.set(params[p.name], off);
        off += this.sizes[i];
      });
      this.add('theta', tf.tensor1d(flat), id);
    } else {
      for (const p of this.shapes) this.add(p.name, tf.tensor(params[p.name], p.shape), id);
    }
  }

  private add(key: string, init: tf.Tensor, id: number): void {
    // variable names are global in tfjs: make them unique per training run
    const v = tf.variable(init, true, `cfs${id}/${key}`);
    init.dispose();
    this.vars[key] = v;
    this.byVarName[v.name] = key;
  }

  /** The parameters as graph feeds (call inside the gradient tape). */
  feeds(): Record<string, tf.Tensor> {
    if (this.layout === 'split') return { ...this.vars };
    const parts = tf.split(this.vars.theta, this.sizes);
    const out: Record<string, tf.Tensor> = {};
    this.shapes.forEach(
      (p, i) => (out[p.name] = p.shape.length === 1 ? parts[i] : tf.reshape(parts[i], p.shape)),
    );
    return out;
  }

  /** tf.variableGrads' result (keyed by variable name) → keyed like `vars`. */
  gradsByKey(grads: tf.NamedTensorMap): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) out[this.byVarName[name]] = g;
    return out;
  }

  /**
   * The weight decay's mask per variable (adam.ts): 1 / 0 per variable in the split layout, a 0/1
   * vector over θ in the flat one (owned by this object; disposed with it).
   */
  decayMask(decayed: (name: string) => boolean): Record<string, tf.Tensor | 0 | 1> {
    if (this.layout === 'split')
      return Object.fromEntries(this.shapes.map((p) => [p.name, decayed(p.name) ? 1 : 0]));
    if (!this.mask) {
      const m = new Float32Array(this.sizes.reduce((a, b) => a + b, 0));
      let off = 0;
      this.shapes.forEach((p, i) => {
        if (decayed(p.name)) m.fill(1, off, off + this.sizes[i]);
        off += this.sizes[i];
      });
      this.mask = tf.tensor1d(m);
    }
    return { theta: this.mask };
  }

  /** Current values as a ParamMap (copies). */
  snapshot(): ParamMap {
    const out: ParamMap = {};
    if (this.layout === 'split') {
      for (const p of this.shapes) out[p.name] = (this.vars[p.name].dataSync() as Float32Array).slice();
      return out;
    }
    const flat = this.vars.theta.dataSync() as Float32Array;
    let off = 0;
    this.shapes.forEach((p, i) => {
      out[p.name] = flat.slice(off, off + this.sizes[i]);
      off += this.sizes[i];
    });
    return out;
  }

  dispose(): void {
    tf.dispose(Object.values(this.vars));
    this.mask?.dispose();
  }
}
