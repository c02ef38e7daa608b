/**
 * A trained detector: everything needed to score new data and to explain how it was made.
 * The same object is what a .cfdet file holds (model/cfdet.ts), validated on load with zod.
 */
import { z } from 'zod';
import type { BackendInfo } from '../backend/tfjsBackend';
import type { BaselineState } from '../baselines';
import type { ParamMap } from '../flow/params';
import type { FlowSpec } from '../flow/spec';
import type { LossPoint } from '../train/trainer';
import type { DetectorConfig } from './config';
import { METHODS, type Method } from './methods';
import type { Preprocessing } from './preprocess';

export const DETECTOR_FORMAT_VERSION = 1;

export interface DetectorFlow {
  /** 'inlier' = pθ (every flow method); 'contrast' = qφ of Flow-ratio */
  role: 'inlier' | 'contrast';
  spec: FlowSpec;
  params: ParamMap;
}

export interface EpsInfo {
  mode: 'fixed' | 'auto';
  value: number;
  quantile?: number;
  offset?: number;
  heldOutQuantileLogp?: number;
  /** share of contrast points above ε over the last 10 % of training (0 = contrast term off) */
  contrastAboveEps?: number;
}

export interface PhaseSummary {
  phase: string;
  steps: number;
  seconds: number;
  stepsPerSec: number;
  stoppedEarly: boolean;
  finalHeldOutNll: number | null;
  contrastAboveEps: number | null;
  history: LossPoint[];
  /** the training backend of this phase ('ort-cpu', 'tfjs-wasm', …); absent in older files */
  trainBackend?: string;
}

export interface Detector {
  format: 'cfstudio-detector';
  formatVersion: number;
  method: Method;
  preprocessing: Preprocessing;
  flows: DetectorFlow[];
  baseline: BaselineState | null;
  eps: EpsInfo | null;
  meta: {
    createdAt: string;
    appVersion: string;
    seed: number;
    config: DetectorConfig;
    backend: BackendInfo | null;
    contrastKind: 'data' | 'permutation' | 'none';
    dataHashes: { inliers: string; contrast: string | null };
    inlierRows: number;
    contrastRows: number | null;
    phases: PhaseSummary[];
    seconds: number;
    notes: string[];
    /** image detectors: the extractor whose (raw) output the detector takes as features */
    extractor?: { name: string; sha256: string; spec: unknown };
  };
}

/** Structural check of a detector header read from disk (arrays are checked by the loader). */
export const DetectorHeaderSchema = z.object({
  format: z.literal('cfstudio-detector'),
  formatVersion: z.number().int(),
  method: z.enum(METHODS),
  preprocessing: z.object({ kind: z.enum(['standardize', 'median-iqr', 'l2', 'none']) }).passthrough(),
  flows: z.array(z.object({ role: z.enum(['inlier', 'contrast']), spec: z.any(), params: z.any() })),
  baseline: z.any().nullable(),
  eps: z.any().nullable(),
  meta: z.object({ createdAt: z.string(), seed: z.number() }).passthrough(),
});
