/**
 * Flow parameters: a name → Float32Array map with the shapes of `flowParamShapes`, and their
 * seeded initialization. Subnet layers start like PyTorch's Linear (U(±1/√fan_in)); the last
 * layer starts at zero (each block is then exactly the identity) or at 0.1× that; the global
 * affine starts at g = softplus(γ) = 1, b = 0 until data-dependent init sets it.
 */
import { Rng } from '../util/rng';
import { flowParamShapes } from './flowGraph';
import type { FlowSpec } from './spec';

export type ParamMap = Record<string, Float32Array>;

/** γ with softplus(γ) = v, i.e. γ = ln(e^v − 1). */
export function inverseSoftplus(v: number): number {
  return v > 20 ? v : Math.log(Math.expm1(v));
}

export function initFlowParams(spec: FlowSpec, seed: number, prefix = ''): ParamMap {
  const rng = new Rng(seed);
  const out: ParamMap = {};
  for (const { name, shape } of flowParamShapes(spec, prefix)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    const kind = name.slice(name.lastIndexOf('.') + 1);
    if (kind === 'gamma') a.fill(inverseSoftplus(1));
    else if (kind === 'beta') {
      // zeros
    } else {
      const fanIn = kind.startsWith('w') ? shape[0] : fanInOfBias(spec, kind);
      const bound = 1 / Math.sqrt(fanIn);
      const isLast = kind === 'w3' || kind === 'b3';
      const factor = isLast ? (spec.lastLayerInit === 'zero' ? 0 : 0.1) : 1;
      if (factor !== 0) for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * bound * factor;
    }
    out[name] = a;
  }
  return out;
}

function fanInOfBias(spec: FlowSpec, kind: string): number {
  return kind === 'b1' ? Math.ceil(spec.dim / 2) : spec.hidden;
}

export function paramCount(params: ParamMap): number {
  return Object.values(params).reduce((a, p) => a + p.length, 0);
}

export function cloneParams(params: ParamMap): ParamMap {
  const out: ParamMap = {};
  for (const [k, v] of Object.entries(params)) out[k] = v.slice();
  return out;
}
