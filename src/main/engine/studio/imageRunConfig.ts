/**
 * The detector configuration of an image run from the few settings the app exposes
 * (steps, ε, flow size, seed); everything else keeps the engine's defaults.
 * Image features are L2-normalized when the extractor's spec says so (METHOD §1).
 */
import { defaultDetectorConfig, type DetectorConfig } from '../detector/fitDetector';
import type { Method } from '../detector/methods';
import type { ExtractorRow } from '../store';
import { extractorSpec } from './extractors';

export interface ImageRunOptions {
  method: Method;
  steps: number;
  /** a fixed ε, or 'auto' (held-out 10 % quantile of log p, offset −ln 10) */
  eps: number | 'auto';
  hidden: number;
  blocks: number;
  seed: number;
}

export function buildConfigForImages(o: ImageRunOptions, ex: ExtractorRow): DetectorConfig {
  const c = defaultDetectorConfig(o.method, extractorSpec(ex).l2Normalize ? 'l2' : 'standardize');
  c.train.steps = o.steps;
  c.train.seed = o.seed;
  c.flow.hidden = o.hidden;
  c.flow.blocks = o.blocks;
  c.oe.steps = Math.max(1, Math.round(o.steps / 2));
  c.eps =
    o.eps === 'auto'
      ? { mode: 'auto', quantile: 0.1, offset: -Math.log(10) }
      : { mode: 'fixed', value: o.eps };
  return c;
}
