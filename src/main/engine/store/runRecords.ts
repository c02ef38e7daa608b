/**
 * What a run record holds, with a schema per kind, so every reader gets typed values and every
 * write is checked:
 *
 *   train     a detector trained on workspace data   config = DetectorConfig, metrics = TrainMetrics
 *   score     a dataset scored with a parent run's detector   config = { parentRunId }
 *   protocol  one-vs-rest / dataset-vs-dataset: the table over its per-class child runs
 *   import    a .cfdet file brought into the workspace
 *
 * A selection is stored as { datasetId, labels } (+ the dataset's name at the time, shown once
 * the dataset is removed), never as a display string: labels may contain ',' and ':'.
 */
import { z } from 'zod';
import { DetectorConfigSchema } from '../detector/config';
import { METHODS } from '../detector/methods';

export const RUN_KINDS = ['train', 'score', 'protocol', 'import'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

const id = z.number().int().positive();
const finite = z.number().finite();
/** NaN and ±∞ are stored as null (JSON has no NaN): an AUROC without both classes, a diverged loss */
const maybeNumber = z.number().nullable();

export const SelectionRefSchema = z.strictObject({
  /** null only for selections of a dataset that was removed before this record was migrated */
  datasetId: id.nullable(),
  /** subfolder labels; null = the whole dataset */
  labels: z.array(z.string()).min(1).nullable(),
  /** the dataset's name when the run was made (shown if the dataset is removed later) */
  datasetName: z.string(),
});
export type SelectionRef = z.infer<typeof SelectionRefSchema>;

/** The data a run used, by role; a role that is absent was not used. */
export const RunSelectionsSchema = z.strictObject({
  inliers: SelectionRefSchema.optional(),
  contrast: z.union([SelectionRefSchema, z.literal('permutation')]).optional(),
  test: SelectionRefSchema.optional(),
  /** score runs: the dataset that was scored */
  scored: SelectionRefSchema.optional(),
  /** protocols */
  train: SelectionRefSchema.optional(),
  anomalies: SelectionRefSchema.optional(),
  inlierTest: SelectionRefSchema.optional(),
});
export type RunSelections = z.infer<typeof RunSelectionsSchema>;
export type SelectionRole = keyof RunSelections;

// ---------------------------------------------------------------- configs

export const ScoreConfigSchema = z.strictObject({ parentRunId: id });
export const ProtocolConfigSchema = z.strictObject({
  protocol: z.enum(['one-vs-rest', 'dataset-vs-dataset']),
  methods: z.array(z.enum(METHODS)).min(1),
  /** one-vs-rest: the inlier classes evaluated */
  classes: z.array(z.string()).optional(),
  /** dataset-vs-dataset without explicit inlier test data: the share of inliers held back */
  testShare: finite.optional(),
  perMethod: z.record(z.string(), DetectorConfigSchema),
});
export const ImportConfigSchema = z.strictObject({
  /** how the imported detector was trained (null when its file does not say) */
  detector: DetectorConfigSchema.nullable(),
});

// ---------------------------------------------------------------- metrics

export const EpsInfoSchema = z.object({
  mode: z.enum(['fixed', 'auto', 'tracking']),
  value: finite,
  quantile: finite.optional(),
  offset: finite.optional(),
  margin: finite.optional(),
  minContrastShare: finite.optional(),
  heldOutQuantileLogp: maybeNumber.optional(),
  contrastAboveEps: maybeNumber.optional(),
});

/** How an app-style run built its evaluation set (held-out inliers + test set or contrast). */
export const EvaluationInfoSchema = z.strictObject({
  heldOutItemIds: z.array(id),
  trainItemCount: z.number().int().min(0),
  /** 'test' = a labelled test set; 'contrast' = the contrast images (seen in training) */
  anomalySource: z.enum(['test', 'contrast', 'none']),
  inlierDatasetId: id,
  testDatasetId: id.nullable(),
  testInlierLabels: z.array(z.string()),
});
export type EvaluationInfo = z.infer<typeof EvaluationInfoSchema>;

export const PhaseMetricsSchema = z.strictObject({
  phase: z.string(),
  steps: z.number().int().min(0),
  stepsPerSec: maybeNumber,
  finalHeldOutNll: maybeNumber,
  stoppedEarly: z.boolean(),
  trainBackend: z.string().nullable(),
});

/** The threshold the user picked: a target false-positive rate on the held-out inliers. */
export const StoredThresholdSchema = z.strictObject({ threshold: finite, targetFpr: finite });

/** How a retrained run compares with the run it was retrained from (studio/retrain.ts). */
const RetrainSideSchema = z.strictObject({
  threshold: z.number(),
  /** evaluation images (held-out inliers left out) at or above the threshold */
  flagged: z.number().int(),
  auroc: maybeNumber,
  perGroup: z.record(z.string(), maybeNumber),
});
export const RetrainComparisonSchema = z.strictObject({
  fromRunId: id,
  targetFpr: finite,
  normals: z.number().int(),
  anomalies: z.number().int(),
  /** how many times each confirmed anomaly was repeated in the contrast set */
  anomalyCopies: z.number().int(),
  /** images of the common evaluation set */
  evaluated: z.number().int(),
  before: RetrainSideSchema,
  after: RetrainSideSchema,
  moved: z.array(
    z.strictObject({
      itemId: id,
      relPath: z.string(),
      mark: z.enum(['normal', 'anomaly']),
      before: z.number(),
      after: z.number(),
      flaggedBefore: z.boolean(),
      flaggedAfter: z.boolean(),
    }),
  ),
});
export type RetrainComparison = z.infer<typeof RetrainComparisonSchema>;

export const TrainMetricsSchema = z.strictObject({
  /** null for runs that did not hold out inliers (older CLI runs, protocol runs) */
  evaluation: EvaluationInfoSchema.nullable(),
  auroc: maybeNumber.optional(),
  aupr: maybeNumber.optional(),
  fprAt95Tpr: maybeNumber.optional(),
  perGroup: z.record(z.string(), maybeNumber).optional(),
  nInlier: z.number().int().optional(),
  nAnomaly: z.number().int().optional(),
  eps: EpsInfoSchema.nullable(),
  contrastAboveEps: maybeNumber,
  phases: z.array(PhaseMetricsSchema),
  notes: z.array(z.string()),
  threshold: StoredThresholdSchema.optional(),
  /** a run retrained with feedback: the comparison with the run it came from */
  retrain: RetrainComparisonSchema.optional(),
});
export type TrainMetrics = z.infer<typeof TrainMetricsSchema>;

export const ScoreMetricsSchema = z.strictObject({ scored: z.number().int().min(0) });

export const ProtocolMetricsSchema = z.strictObject({
  runs: z.array(
    z.strictObject({ runId: id, method: z.enum(METHODS), inlier: z.string(), auroc: maybeNumber }),
  ),
  /** method → mean AUROC over the inlier classes (dataset-vs-dataset: the one AUROC) */
  meanAuroc: z.record(z.string(), maybeNumber),
  classes: z.array(z.string()).optional(),
  inlierClasses: z.array(z.string()).optional(),
  /** one-vs-rest: method → Table 2 rows (null on the diagonal) */
  matrix: z.record(z.string(), z.array(z.array(maybeNumber))).optional(),
});
export type ProtocolMetrics = z.infer<typeof ProtocolMetricsSchema>;

export const ImportMetricsSchema = z.strictObject({
  file: z.string(),
  sha256: z.string(),
  eps: EpsInfoSchema.nullable(),
  dataHashes: z.strictObject({ inliers: z.string(), contrast: z.string().nullable() }),
  trainedAt: z.string(),
  notes: z.array(z.string()),
});

/** The config and metrics schemas of each kind. */
export const RUN_SCHEMAS = {
  train: { config: DetectorConfigSchema, metrics: TrainMetricsSchema },
  score: { config: ScoreConfigSchema, metrics: ScoreMetricsSchema },
  protocol: { config: ProtocolConfigSchema, metrics: ProtocolMetricsSchema },
  import: { config: ImportConfigSchema, metrics: ImportMetricsSchema },
} as const;

export type RunConfigOf<K extends RunKind> = z.infer<(typeof RUN_SCHEMAS)[K]['config']>;
export type RunMetricsOf<K extends RunKind> = z.infer<(typeof RUN_SCHEMAS)[K]['metrics']>;

/** Writes JSON with NaN/±∞ as null (what JSON.stringify does), for values checked by the schemas. */
export function jsonSafe<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** A running run's latest progress (runs.progress), written ~1/s by the process that trains it. */
export const RunProgressSchema = z.object({
  /** e.g. 'extract photos', 'train cf' */
  phase: z.string(),
  done: z.number(),
  total: z.number(),
  /** items or steps per second */
  rate: z.number().nullable(),
  etaSeconds: z.number().nullable(),
  /** CF: share of the contrast batch above ε at the latest step */
  contrastAboveEps: z.number().nullable().optional(),
  /** ISO time of the update (a stale one means the process died) */
  updated: z.string(),
});
export type RunProgress = z.infer<typeof RunProgressSchema>;
