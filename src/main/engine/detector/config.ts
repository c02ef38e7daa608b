/**
 * A detector's configuration: the method, the flow's shape, the training loop, the CF clamp ε,
 * OE's fine-tuning, the held-out share, the baselines' options and the preprocessing. It is
 * stored with every run and every .cfdet file, so it has a schema (old records are read with it).
 */
import { z } from 'zod';
import type { BaselineOptions } from '../baselines';
import { DEFAULT_FLOW, type FlowSpecOptions } from '../flow/spec';
import type { EpsTrackingRule } from '../train/epsTracking';
import { DEFAULT_TRAIN, type TrainConfig } from '../train/trainer';
import { METHODS, type Method } from './methods';
import type { PreprocessKind } from './preprocess';

/**
 * The CF clamp ε (METHOD §3): a fixed value; 'auto', the paper's rule (a plain flow first, then
 * ε = quantile of its held-out inlier log p + offset); or 'tracking', ε following the held-out
 * inliers during training (train/epsTracking.ts).
 */
export type EpsConfig =
  | { mode: 'fixed'; value: number }
  | { mode: 'auto'; quantile: number; offset: number }
  | ({ mode: 'tracking' } & EpsTrackingRule);

/** The settings the inlier-count rule chooses (detector/inlierCountRule.ts). */
export const SIZED_SETTINGS = [
  'hidden',
  'blocks',
  'steps',
  'oeSteps',
  'noise',
  'evalEvery',
  'weightDecay',
  'restoreBest',
  'eps',
] as const;
export type SizedSetting = (typeof SIZED_SETTINGS)[number];

/**
 * How a flow's settings are sized: 'inlier-count' = by the inlier-count rule, at training time,
 * except the settings in `userSet` (given explicitly); 'none' = as the config says.
 */
export interface Sizing {
  rule: 'inlier-count' | 'none';
  userSet: SizedSetting[];
}

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
  /** whether the rule sizes the flow (records made before the rule: 'none') */
  sizing: Sizing;
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
    // a config built here is used as it is; the settings a user gives go through
    // studio/trainOptions.ts, which turns the inlier-count rule on
    sizing: { rule: 'none', userSet: [] },
  };
}

const finite = z.number().finite();
const count = z.number().int().min(0);

export const EpsConfigSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('fixed'), value: finite }),
  z.object({ mode: z.literal('auto'), quantile: finite, offset: finite }),
  z.object({ mode: z.literal('tracking'), quantile: finite, margin: finite, minContrastShare: finite }),
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
    weightDecay: finite.default(0),
    restoreBest: z.boolean().default(false),
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
  sizing: z
    .object({ rule: z.enum(['inlier-count', 'none']), userSet: z.array(z.enum(SIZED_SETTINGS)) })
    .default({ rule: 'none', userSet: [] }),
}) as z.ZodType<DetectorConfig>;
