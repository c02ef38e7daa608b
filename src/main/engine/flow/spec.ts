/**
 * The architecture of a flow (METHOD §2): everything needed to rebuild its graph.
 * Stored with the parameters in every model file, so a model always carries its shape.
 */
import { z } from 'zod';
import { Rng } from '../util/rng';

export const FlowSpecSchema = z.object({
  /** input dimension D (≥ 2: a coupling block needs two halves) */
  dim: z.number().int().min(2),
  /** number of coupling blocks (paper: 8) */
  blocks: z.number().int().min(1).max(64),
  /** hidden width H of each subnet MLP (paper: 512) */
  hidden: z.number().int().min(1).max(8192),
  /** soft clamp α of the log-scale: s = α·tanh(a/α) (paper/FrEIA: 2) */
  clamp: z.number().positive(),
  /** how the subnet's last layer starts: zeros (exact identity) or small random (×0.1) */
  lastLayerInit: z.enum(['zero', 'scaled']),
  /** fixed permutation of the D dimensions after each block; perm[i] = source column of output i */
  permutations: z.array(z.array(z.number().int().min(0))),
});
export type FlowSpec = z.infer<typeof FlowSpecSchema>;

export interface FlowSpecOptions {
  blocks?: number;
  hidden?: number;
  clamp?: number;
  lastLayerInit?: 'zero' | 'scaled';
}

export const DEFAULT_FLOW = { blocks: 8, hidden: 512, clamp: 2, lastLayerInit: 'zero' as const };

/** A flow spec for dimension `dim` with seeded random permutations. */
export function makeFlowSpec(dim: number, opts: FlowSpecOptions, seed: number): FlowSpec {
  const blocks = opts.blocks ?? DEFAULT_FLOW.blocks;
  const rng = new Rng(seed ^ 0x5eed);
  const permutations: number[][] = [];
  for (let k = 0; k < blocks; k++) permutations.push(Array.from(rng.permutation(dim)));
  return FlowSpecSchema.parse({
    dim,
    blocks,
    hidden: opts.hidden ?? DEFAULT_FLOW.hidden,
    clamp: opts.clamp ?? DEFAULT_FLOW.clamp,
    lastLayerInit: opts.lastLayerInit ?? DEFAULT_FLOW.lastLayerInit,
    permutations,
  });
}

/** Sizes of the two halves: x1 gets ⌈D/2⌉ columns (conditioner), x2 gets ⌊D/2⌋ (transformed). */
export function halves(dim: number): { d1: number; d2: number } {
  const d1 = Math.ceil(dim / 2);
  return { d1, d2: dim - d1 };
}

/** Throws if the spec is internally inconsistent (e.g. a loaded file was edited). */
export function checkFlowSpec(spec: FlowSpec): void {
  if (spec.permutations.length !== spec.blocks) {
    throw new Error(`flow spec: ${spec.permutations.length} permutations for ${spec.blocks} blocks`);
  }
  for (const p of spec.permutations) {
    const seen = new Set(p);
    if (p.length !== spec.dim || seen.size !== spec.dim || p.some((v) => v >= spec.dim)) {
      throw new Error(`flow spec: a permutation is not a permutation of 0..${spec.dim - 1}`);
    }
  }
}

export function invertPermutation(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((src, i) => (inv[src] = i));
  return inv;
}
