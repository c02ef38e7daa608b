/**
 * The settings a user may give a training (every front end offers some of them) and the
 * detector configuration they make. The flow's size, training length, noise, weight decay and ε
 * that the user leaves unset are chosen at training time by the inlier-count rule
 * (detector/inlierCountRule.ts; `sizing: 'none'` keeps the engine's fixed defaults instead);
 * the settings given are recorded as such and always win. Image features are L2-normalized when
 * the extractor's spec says so (METHOD §1); tables are standardized.
 */
import { defaultDetectorConfig, type DetectorConfig, type SizedSetting } from '../detector/config';
import type { Method } from '../detector/methods';
import type { PreprocessKind } from '../detector/preprocess';

export interface TrainOptions {
  steps?: number;
  hidden?: number;
  blocks?: number;
  /** soft clamp α of the log-scale */
  clamp?: number;
  batch?: number;
  lr?: number;
  clip?: number;
  noise?: number;
  /** a fixed ε, or 'auto' (held-out quantile of log p + offset) */
  eps?: number | 'auto';
  epsQuantile?: number;
  epsOffset?: number;
  seed?: number;
  patience?: number;
  preprocess?: PreprocessKind;
  /** KNN neighbours */
  k?: number;
  /** OE fine-tuning steps (default: half the steps) */
  oeSteps?: number;
  /** decoupled weight decay of the subnet weights */
  weightDecay?: number;
  /** 'inlier-count' (default): unset flow settings follow the inlier-count rule; 'none': fixed defaults */
  sizing?: 'inlier-count' | 'none';
}

export function detectorConfigFor(
  method: Method,
  o: TrainOptions,
  defaultPreprocess: PreprocessKind,
): DetectorConfig {
  const c = defaultDetectorConfig(method, o.preprocess ?? defaultPreprocess);
  if (o.steps !== undefined) c.train.steps = o.steps;
  if (o.hidden !== undefined) c.flow.hidden = o.hidden;
  if (o.blocks !== undefined) c.flow.blocks = o.blocks;
  if (o.clamp !== undefined) c.flow.clamp = o.clamp;
  if (o.batch !== undefined) c.train.batchSize = o.batch;
  if (o.lr !== undefined) c.train.lr = o.lr;
  if (o.clip !== undefined) c.train.clipNorm = o.clip;
  if (o.noise !== undefined) c.train.noiseStd = o.noise;
  if (o.seed !== undefined) c.train.seed = o.seed;
  if (o.patience !== undefined) c.train.patience = o.patience;
  if (o.k !== undefined) c.baseline.k = o.k;
  c.oe.steps = o.oeSteps ?? Math.max(1, Math.round(c.train.steps / 2));
  if (o.weightDecay !== undefined) c.train.weightDecay = o.weightDecay;
  if (o.eps === 'auto')
    c.eps = { mode: 'auto', quantile: o.epsQuantile ?? 0.1, offset: o.epsOffset ?? -Math.log(10) };
  else if (o.eps !== undefined) c.eps = { mode: 'fixed', value: o.eps };
  const given: Record<SizedSetting, unknown> = {
    hidden: o.hidden,
    blocks: o.blocks,
    steps: o.steps,
    oeSteps: o.oeSteps,
    noise: o.noise,
    evalEvery: undefined,
    weightDecay: o.weightDecay,
    restoreBest: undefined,
    eps: o.eps,
  };
  c.sizing = {
    rule: o.sizing ?? 'inlier-count',
    userSet: (Object.keys(given) as SizedSetting[]).filter((k) => given[k] !== undefined),
  };
  return c;
}
