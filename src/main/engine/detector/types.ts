/**
 * A trained detector: everything needed to score new data and to explain how it was made.
 * The same object is what a .cfdet file holds (model/cfdet.ts); what a file read from disk must
 * satisfy before it is scored (schema, shapes, finite numbers) is `detectorContentProblem`.
 */
import { z } from 'zod';
import type { BackendInfo } from '../backend/tfjsBackend';
import { BASELINE_KINDS, type BaselineKind, type BaselineState } from '../baselines';
import { MAX_FEATURE_COLUMNS } from '../data/featureLimit';
import { ExtractorInputSpec } from '../features/inputSpec';
import { flowParamShapes } from '../flow/flowGraph';
import type { ParamMap } from '../flow/params';
import { checkFlowSpec, FlowSpecSchema, type FlowSpec } from '../flow/spec';
import type { LossPoint } from '../train/trainer';
import type { DetectorConfig } from './config';
import { FLOW_METHODS, METHODS, type Method } from './methods';
import type { Preprocessing } from './preprocess';

export const DETECTOR_FORMAT_VERSION = 1;

export interface DetectorFlow {
  /** 'inlier' = pθ (every flow method); 'contrast' = qφ of Flow-ratio */
  role: 'inlier' | 'contrast';
  spec: FlowSpec;
  params: ParamMap;
}

export interface EpsInfo {
  /** 'tracking': ε followed the held-out inliers during training; `value` is its last value */
  mode: 'fixed' | 'auto' | 'tracking';
  value: number;
  quantile?: number;
  offset?: number;
  /** tracking ε: margin Δ below the held-out quantile, least share of contrast above ε */
  margin?: number;
  minContrastShare?: number;
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

/** A threshold picked at a target false-positive rate on held-out inliers (eval/threshold.ts). */
export interface DetectorThreshold {
  value: number;
  targetFpr: number;
  heldOutCount: number;
}

export interface Detector {
  format: 'cfstudio-detector';
  formatVersion: number;
  method: Method;
  preprocessing: Preprocessing;
  flows: DetectorFlow[];
  baseline: BaselineState | null;
  eps: EpsInfo | null;
  /** the decision threshold: an image or row is flagged when its score ≥ value (absent in older files) */
  threshold?: DetectorThreshold | null;
  /** held-out inlier scores (sorted, at most 2,000): a threshold at another FPR can be picked from them */
  calibration?: { heldOutScores: number[] } | null;
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

const finiteNumber = z.number().refine(Number.isFinite, { error: 'must be a finite number' });
const count = z.number().int().min(0);
const float32s = z.instanceof(Float32Array, { error: 'expected an array of numbers' });
const names = z.array(z.string()).max(MAX_FEATURE_COLUMNS);

const StandardizerSchema = z.object({
  method: z.enum(['mean-std', 'median-iqr']),
  inputColumns: names.min(1),
  columns: names,
  keep: z.array(count).max(MAX_FEATURE_COLUMNS),
  center: float32s,
  scale: float32s,
  dropped: z.array(z.object({ column: z.string(), reason: z.string() })),
  notes: z.array(z.string()),
});

const PreprocessingSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.enum(['standardize', 'median-iqr']), standardizer: StandardizerSchema }),
  z.object({
    kind: z.enum(['l2', 'none']),
    inputDim: z.number().int().min(1).max(MAX_FEATURE_COLUMNS),
    columns: names,
  }),
]);

const MatrixSchema = z.object({ rows: count, cols: count, data: float32s });

const BaselineSchema = z.object({
  kind: z.enum(BASELINE_KINDS),
  params: z.record(z.string(), finiteNumber),
  tensors: z.record(z.string(), MatrixSchema),
});

const EpsSchema = z
  .object({ mode: z.enum(['fixed', 'auto', 'tracking']), value: finiteNumber })
  .passthrough();

/**
 * What a detector read from disk must look like: the structure (known method, preprocessing and
 * baseline kinds; arrays where arrays belong) and the extractor spec. Shapes and values are checked
 * by `detectorContentProblem`.
 */
export const DetectorHeaderSchema = z.object({
  format: z.literal('cfstudio-detector'),
  formatVersion: z.number().int(),
  method: z.enum(METHODS),
  preprocessing: PreprocessingSchema,
  flows: z
    .array(z.object({ role: z.enum(['inlier', 'contrast']), spec: z.unknown(), params: z.unknown() }))
    .max(2),
  baseline: BaselineSchema.nullable(),
  eps: EpsSchema.nullable(),
  threshold: z
    .object({ value: finiteNumber, targetFpr: z.number().min(0).max(1), heldOutCount: count })
    .nullable()
    .optional(),
  calibration: z
    .object({ heldOutScores: z.array(finiteNumber).max(100_000) })
    .nullable()
    .optional(),
  meta: z
    .object({
      createdAt: z.string(),
      seed: z.number(),
      extractor: z
        .object({ name: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), spec: ExtractorInputSpec })
        .optional(),
    })
    .passthrough(),
});

/**
 * The first reason `value` (a parsed .cfdet header, arrays decoded) cannot be scored as a
 * detector, in words for a user, or null when it is sound: the structure above, then every shape
 * agrees with the feature dimension D (preprocessing, flow parameters, baseline arrays), every
 * stored number is finite, scales are positive, and the method has the flows or baseline it needs.
 */
export function detectorContentProblem(value: unknown): string | null {
  const parsed = DetectorHeaderSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue.path.join('.') || 'the header'}: ${issue.message}`;
  }
  const det = parsed.data;
  const pre = det.preprocessing;
  let dim: number;
  if ('standardizer' in pre) {
    const s = pre.standardizer;
    dim = s.keep.length;
    if (s.inputColumns.length > MAX_FEATURE_COLUMNS)
      return `the detector takes ${s.inputColumns.length} columns, more than ${MAX_FEATURE_COLUMNS}`;
    for (const [name, n] of [
      ['columns', s.columns.length],
      ['center', s.center.length],
      ['scale', s.scale.length],
    ] as const)
      if (n !== dim) return `preprocessing.standardizer.${name} has ${n} values for ${dim} kept columns`;
    if (dim === 0) return 'preprocessing keeps no columns';
    for (let j = 0; j < dim; j++) {
      if (s.keep[j] >= s.inputColumns.length || (j > 0 && s.keep[j] <= s.keep[j - 1]))
        return `preprocessing.standardizer.keep is not an increasing list of column indices below ${s.inputColumns.length}`;
    }
    const bad = firstNonFinite(s.center) ?? firstNonFinite(s.scale);
    if (bad !== null) return `preprocessing.standardizer holds a non-finite number (${bad})`;
    if (s.scale.some((v) => !(v > 0)))
      return 'preprocessing.standardizer.scale holds a value that is not > 0';
  } else {
    dim = pre.inputDim;
    // image features have no column names
    if (pre.columns.length !== dim && pre.columns.length !== 0)
      return `preprocessing.columns has ${pre.columns.length} names for ${dim} input columns`;
  }

  const flowMethod = FLOW_METHODS.includes(det.method);
  if (flowMethod) {
    if (det.baseline !== null) return `a ${det.method} detector holds a baseline`;
    const roles = det.flows.map((f) => f.role).sort();
    const want = det.method === 'ratio' ? ['contrast', 'inlier'] : ['inlier'];
    if (roles.join() !== want.join())
      return `a ${det.method} detector needs flows [${want.join(', ')}], the file has [${roles.join(', ')}]`;
    if (det.method === 'cf' && det.eps === null) return 'a cf detector has no ε';
  } else {
    if (det.flows.length > 0) return `a ${det.method} detector holds flows`;
    if (det.baseline === null || det.baseline.kind !== det.method)
      return `a ${det.method} detector needs a ${det.method} baseline, the file has ${det.baseline?.kind ?? 'none'}`;
  }

  for (const f of det.flows) {
    const spec = FlowSpecSchema.safeParse(f.spec);
    if (!spec.success) {
      const issue = spec.error.issues[0];
      return `the ${f.role} flow's spec: ${issue.path.join('.') || 'spec'}: ${issue.message}`;
    }
    try {
      checkFlowSpec(spec.data);
    } catch (e) {
      return `the ${f.role} flow's spec is inconsistent (${(e as Error).message})`;
    }
    if (spec.data.dim !== dim)
      return `the ${f.role} flow takes ${spec.data.dim} features, the preprocessing gives ${dim}`;
    const params = (f.params ?? {}) as Record<string, unknown>;
    for (const { name, shape } of flowParamShapes(spec.data)) {
      const p = params[name];
      const n = shape.reduce((a, b) => a * b, 1);
      if (!(p instanceof Float32Array) || p.length !== n)
        return `flow parameter ${name} has the wrong size (expected ${n} numbers)`;
      const bad = firstNonFinite(p);
      if (bad !== null) return `flow parameter ${name} holds a non-finite number (${bad})`;
    }
  }

  if (det.baseline) return baselineProblem(det.baseline, dim);
  return null;
}

/** Shapes each baseline's score function relies on (baselines/*.ts). */
function baselineProblem(b: z.infer<typeof BaselineSchema>, dim: number): string | null {
  const need: Record<BaselineKind, string[]> = {
    mse: ['mean'],
    'mse-ratio': ['meanP', 'meanQ'],
    knn: ['train'],
    kde: ['train'],
    pca: ['mean', 'components', 'eigenvalues'],
  };
  for (const name of need[b.kind]) {
    const t = b.tensors[name];
    if (!t) return `the ${b.kind} baseline has no ${name} array`;
    if (t.data.length !== t.rows * t.cols)
      return `the ${b.kind} baseline's ${name} holds ${t.data.length} numbers for ${t.rows}×${t.cols}`;
    const bad = firstNonFinite(t.data);
    if (bad !== null) return `the ${b.kind} baseline's ${name} holds a non-finite number (${bad})`;
    const rowVector = name !== 'train' && name !== 'components';
    if (t.cols !== dim || (rowVector && t.rows !== 1) || (name === 'train' && t.rows < 1))
      return `the ${b.kind} baseline's ${name} is ${t.rows}×${t.cols}, the detector has ${dim} features`;
  }
  if (b.kind === 'knn') {
    const { k, method } = b.params;
    if (!(Number.isInteger(k) && k >= 1 && k <= b.tensors.train.rows))
      return `the knn baseline's k (${k}) must be a whole number from 1 to its ${b.tensors.train.rows} training rows`;
    if (method !== 0 && method !== 1) return `the knn baseline has an unknown method code ${method}`;
  }
  if (b.kind === 'kde' && !(b.params.bandwidth > 0)) return 'the kde baseline has no positive bandwidth';
  return null;
}

/** Index and value of the first NaN/±Infinity, as text, or null. */
function firstNonFinite(a: Float32Array): string | null {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return `index ${i} is ${a[i]}`;
  return null;
}
