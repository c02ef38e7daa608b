/**
 * The settings a user may give a training (every front end offers some of them) and the
 * detector configuration they make: unset settings keep the engine's defaults
 * (detector/config.ts). Image features are L2-normalized when the extractor's spec says so
 * (METHOD §1); tables are standardized.
 */
import { defaultDetectorConfig, type DetectorConfig } from '../detector/config';
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
  if (o.eps === 'auto')
    c.eps = { mode: 'auto', quantile: o.epsQuantile ?? 0.1, offset: o.epsOffset ?? -Math.log(10) };
  else if (o.eps !== undefined) c.eps = { mode: 'fixed', value: o.eps };
  return c;
}
