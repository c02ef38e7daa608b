/**
 * A detector's configuration: the method, the flow's shape, the training loop, the CF clamp ε,
 * OE's fine-tuning, the held-out share, the baselines' options and the preprocessing. It is
 * stored with every run and every .cfdet file, so it has a schema (old records are read with it).
 */
import { z } from 'zod';
import type { BaselineOptions } from '../baselines';
import { DEFAULT_FLOW, type FlowSpecOptions } from '../flow/spec';
import { DEFAULT_TRAIN, type TrainConfig } from '../train/trainer';
import { METHODS, type Method } from './methods';
import type { PreprocessKind } from './preprocess';

export type EpsConfig = { mode: 'fixed'; value: number } | { mode: 'auto'; quantile: number; offset: number };

export interface DetectorConfig {
  method: Method;
  flow: Required<FlowSpecOptions>;
  train: TrainConfig;
  eps: EpsConfig;
  /** OE: hinge weight λ, margin m, fine-tuning steps after the plain flow */
  oe: { lambda: number; margin: number; steps: number };
  heldOutShare: number;
  baseline: BaselineOptions;
  preprocess: PreprocessKind;
}

export function defaultDetectorConfig(
  method: Method,
  preprocess: PreprocessKind = 'standardize',
): DetectorConfig {
  return {
    method,
    flow: { ...DEFAULT_FLOW },
    train: { ...DEFAULT_TRAIN },
    // ε = 0: the paper's value for L2-normalized image features (METHOD §3)
    eps: { mode: 'fixed', value: 0 },
    oe: { lambda: 1, margin: 1, steps: 500 },
    heldOutShare: 0.1,
    baseline: {},
    preprocess,
  };
}

const finite = z.number().finite();
const count = z.number().int().min(0);

export const EpsConfigSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), value: finite }),
  z.object({ mode: z.literal('auto'), quantile: finite, offset: finite }),
]);

/** Parses a stored configuration; fields added in later versions get their defaults. */
export const DetectorConfigSchema: z.ZodType<DetectorConfig> = z.object({
  method: z.enum(METHODS),
  flow: z.object({
    blocks: count,
    hidden: count,
    clamp: finite,
    lastLayerInit: z.enum(['zero', 'scaled']).default(DEFAULT_FLOW.lastLayerInit),
  }),
  train: z.object({
    steps: count,
    batchSize: count,
    lr: finite,
    clipNorm: finite,
    noiseStd: finite,
    evalEvery: count,
    patience: count,
    seed: count,
  }),
  eps: EpsConfigSchema,
  oe: z.object({ lambda: finite, margin: finite, steps: count }),
  heldOutShare: finite,
  baseline: z.object({
    k: count.optional(),
    method: z.enum(['largest', 'mean']).optional(),
    bandwidth: finite.optional(),
    varianceKept: finite.optional(),
    components: count.optional(),
  }),
  preprocess: z.enum(['standardize', 'median-iqr', 'l2', 'none']),
}) as z.ZodType<DetectorConfig>;
