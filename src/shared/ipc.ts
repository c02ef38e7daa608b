/**
 * The IPC contract between main (src/main/ipc), preload (src/preload), the browser preview
 * (src/main/preview) and the renderer (src/renderer).
 *
 * Types and a few constants only: this file is imported by every process, so it must not import
 * anything (no `electron`, no Node built-ins, nothing from main/preload/renderer).
 * Add a call by adding an entry to `IpcInvokeContract`, a method to `CfStudioApi`, a handler in
 * src/main/ipc/handlers.ts (with its zod schema) and a line in src/preload.
 *
 * Long work (scan, extraction, training, scoring) is a *job*: the call returns `{ jobId }` at once,
 * progress arrives as `JobEvent`s, and the job ends with exactly one 'done' | 'failed' | 'cancelled'.
 */

/** What the main process reports about the running app (`app:info`). */
export interface AppInfo {
  version: string;
  platform: string;
  versions: { electron: string; chrome: string; node: string; v8: string };
  /** the SQLite workspace file in use (remembered between starts) */
  workspace: string;
  /** 'electron' in the desktop app, 'preview' in the browser preview */
  shell: 'electron' | 'preview';
  /** training backend that will run (e.g. 'ort-cpu', 'wasm', 'tensorflow'), and why */
  trainBackend: { name: string; detail: string } | null;
  /** where ONNX Runtime extracts, scores and trains: the setting, and each provider's state here */
  device: DeviceInfo;
}

export type DeviceSetting = 'auto' | 'cpu' | 'cuda' | 'dml' | 'coreml' | 'webgpu';

export interface DeviceInfo {
  selected: DeviceSetting;
  /** the providers tried, in order, for the setting */
  tryOrder: string[];
  providers: { provider: string; offered: boolean; bundled: boolean; unavailable: string | null }[];
}

/** An error as the renderer sees it: what failed, and what the user can do. */
export interface ApiError {
  message: string;
  hint: string | null;
  /** 'user' = bad input or state the user can fix; 'cancelled'; 'internal' = a bug */
  kind: 'user' | 'cancelled' | 'internal';
  /** user errors: the engine's error code (e.g. 'run-missing'), for the app to react to */
  code?: string | null;
}

// ------------------------------------------------------------------ datasets

export interface LabelCount {
  label: string;
  count: number;
}

export interface DatasetInfo {
  id: number;
  name: string;
  kind: 'image' | 'tabular';
  root: string;
  created: string;
  /** readable images */
  ok: number;
  /** files skipped (unreadable, not images, ...) */
  skipped: number;
  /** per subfolder label ('' = files directly in the root) */
  labels: LabelCount[];
}

export interface SkippedFile {
  relPath: string;
  reason: string;
}

export interface DatasetDetail extends DatasetInfo {
  skippedFiles: SkippedFile[];
  /** how many readable items have features of each extractor (by extractor id) */
  featureCounts: Record<number, number>;
}

export interface ItemInfo {
  id: number;
  datasetId: number;
  relPath: string;
  label: string;
  width: number | null;
  height: number | null;
}

export interface ItemPage {
  total: number;
  items: ItemInfo[];
}

// ------------------------------------------------------------------ extractors

export interface ExtractorInputSpecInfo {
  inputName: string;
  outputName: string;
  width: number;
  height: number;
  layout: string;
  channelOrder: string;
  scale: number;
  mean: number[];
  std: number[];
  resize: string;
  /** share of the resized image kept by the centre crop (1 = none) */
  cropFraction?: number;
  l2Normalize: boolean;
}

export interface ExtractorInfo {
  id: number;
  name: string;
  path: string;
  sha256: string;
  spec: ExtractorInputSpecInfo;
  /** the model file is on disk */
  available: boolean;
}

// ------------------------------------------------------------------ runs

/** The method ids of the engine's registry (src/main/ipc/views.ts checks at compile time that they agree). */
export type MethodId = 'cf' | 'flow' | 'ratio' | 'oe' | 'mse' | 'mse-ratio' | 'knn' | 'kde' | 'pca';

/** One method of the engine's registry (`methods:list`): the app's forms read it, never a copy. */
export interface MethodInfo {
  id: MethodId;
  label: string;
  shortLabel: string;
  usesContrast: boolean;
  /** a flow method (has loss curves, steps, ε for CF) */
  flow: boolean;
  /** can be exported as a standalone ONNX scorer */
  exportable: boolean;
  description: string;
}

/** A subset of a dataset: all of it, or only some subfolder labels. */
export interface DataSelection {
  datasetId: number;
  labels: string[] | null;
}

export interface TrainRequest {
  name?: string;
  method: MethodId;
  inliers: DataSelection;
  /** contrast images, or null for methods without contrast */
  contrast: DataSelection | null;
  /** optional labelled test set; `inlierLabels` are its labels that count as inliers */
  test?: { datasetId: number; inlierLabels: string[] } | null;
  extractorId: number;
  /*
   * Flow settings: left out (undefined), the engine chooses them from the number of training
   * inliers (the inlier-count rule, src/main/engine/detector/inlierCountRule.ts); given, they win.
   */
  /** training steps (flows) */
  steps?: number;
  /** ε (CF): a number, or 'auto' (held-out quantile rule); unset = tracking the inliers (the rule) */
  eps?: number | 'auto';
  hidden?: number;
  blocks?: number;
  seed: number;
}

/** 'interrupted': the process running it died (kill, crash, power loss) before it finished */
export type RunStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export interface RunSummary {
  id: number;
  name: string | null;
  /** a method id, or 'protocol:one-vs-rest' / 'protocol:dataset-vs-dataset' */
  method: MethodId | `protocol:${string}`;
  methodLabel: string;
  status: RunStatus;
  /**
   * 'train' = a detector; 'score' = a folder scored with a parent run's detector; 'protocol' = an
   * evaluation over per-class runs; 'import' = a detector file brought into the workspace
   */
  kind: 'train' | 'score' | 'protocol' | 'import';
  parentRunId: number | null;
  /** the run whose detector this run scores with (a score run: its parent); null = none */
  detectorRunId: number | null;
  inliers: string | null;
  contrast: string | null;
  test: string | null;
  eps: number | null;
  auroc: number | null;
  /** average precision over the same scores as `auroc` */
  aupr: number | null;
  /** protocol runs: mean AUROC per method */
  meanAuroc: Record<string, number | null> | null;
  /** seconds of training (null while running) */
  trainSeconds: number | null;
  backend: string | null;
  steps: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  /**
   * AUROC per anomaly group (a label of the evaluation data, or a dataset). Runs that share their
   * evaluation data and differ in inlier class give the rows of the one-vs-rest matrix.
   */
  perGroup: Record<string, number>;
}

export interface LossPoint {
  step: number;
  inlierNll: number;
  contrastNll: number | null;
  /** CF: share of the contrast batch above ε (null without a contrast term or in older runs) */
  contrastAboveEps?: number | null;
}

export interface HistogramSeries {
  /** e.g. 'inliers (held-out)', 'contrast: cat', 'test: horse' */
  group: string;
  /** true for groups that count as anomalies */
  anomaly: boolean;
  counts: number[];
}

export interface Histograms {
  /** bin edges, counts.length + 1 values, shared by every group */
  edges: number[];
  /** when set, the last bin also counts the (few) scores above this value: a long tail is cut */
  clippedAbove: number | null;
  series: HistogramSeries[];
}

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  auroc: number;
}

export interface PickInfo {
  group: 'lowest-inlier' | 'hardest-anomaly' | 'strangest-inlier';
  rank: number;
  itemId: number;
  score: number;
  relPath: string;
  label: string;
}

export interface RunDetail extends RunSummary {
  config: Record<string, unknown>;
  metrics: Record<string, unknown> | null;
  losses: LossPoint[];
  histograms: Histograms | null;
  roc: RocCurve | null;
  /** where the AUROC's anomalies come from, and whether the detector saw them in training */
  aurocNote: string | null;
  /** the paper's Fig. 5 picks: 3 lowest-score inliers, 3 hardest anomalies, 3 strangest inliers */
  picks: PickInfo[];
  threshold: ThresholdInfo | null;
  /** number of scored items */
  scored: number;
  /** child runs: a protocol's per-class runs, a detector's score runs */
  children: number[];
  /** a running run's latest progress (any process that trains it writes it), else null */
  live: RunLive | null;
  /** the analyst's marks on this run's list */
  marks: MarkCounts;
  /** the marks a retrain from this run would use (its detector's run and every list it scored); null: no detector */
  feedback: (MarkCounts & { fromRuns: number[] }) | null;
  /** a run retrained with feedback: before/after against the run it came from */
  retrain: RetrainComparison | null;
  /** AUPR, FPR at 95 % TPR, precision/recall/F1 at the threshold (when both classes were scored) */
  decision: DecisionMetrics | null;
  /** each group's score distribution (101 percentiles) for the Fig. 1/8 chart */
  distributions: ScoreDistribution[];
}

export interface RunLive {
  /** e.g. 'extract photos', 'train cf' */
  phase: string;
  done: number;
  total: number;
  rate: number | null;
  etaSeconds: number | null;
  contrastAboveEps?: number | null;
  /** ISO time of the last update */
  updated: string;
}

export interface MarkCounts {
  normal: number;
  anomaly: number;
}

export interface DecisionMetrics {
  aupr: number;
  fprAt95Tpr: number;
  atThreshold: { precision: number; recall: number; f1: number; fpr: number; flagged: number } | null;
}

export interface ScoreDistribution {
  group: string;
  anomaly: boolean;
  count: number;
  /** the 0 %, 1 %, …, 100 % percentiles of the group's scores */
  percentiles: number[];
}

export interface RetrainSide {
  threshold: number;
  /** evaluation images (held-out inliers left out) at or above the threshold */
  flagged: number;
  auroc: number | null;
  perGroup: Record<string, number | null>;
}

export interface RetrainComparison {
  fromRunId: number;
  targetFpr: number;
  normals: number;
  anomalies: number;
  anomalyCopies: number;
  /** images of the common evaluation set (the marked ones left out) */
  evaluated: number;
  before: RetrainSide;
  after: RetrainSide;
  /** every marked image: its score and flag under the old and the new detector */
  moved: {
    itemId: number;
    relPath: string;
    mark: 'normal' | 'anomaly';
    before: number;
    after: number;
    flaggedBefore: boolean;
    flaggedAfter: boolean;
  }[];
}

export interface PrototypesInfo {
  runId: number;
  temperature: number;
  prototypes: {
    logProb: number;
    nearest: { itemId: number; relPath: string; role: 'inlier' | 'contrast'; distance: number }[];
  }[];
  heldOutMedianLogProb: number | null;
  nearestInlierShare: number;
  chance: number;
}

export interface ThresholdInfo {
  /** score above which an item is flagged */
  threshold: number;
  /** target false-positive rate on held-out inliers that chose it */
  targetFpr: number;
  /** FPR measured on the held-out inliers at this threshold */
  heldOutFpr: number;
  /** held-out inliers it was computed on */
  heldOutCount: number;
  /** scored items at or above the threshold */
  flagged: number;
}

export interface ScoredItem {
  itemId: number;
  datasetId: number;
  rank: number;
  score: number;
  relPath: string;
  label: string;
  group: string;
  anomaly: boolean;
  flagged: boolean;
  /** the analyst's mark: 'normal' (a false alarm), 'anomaly' (confirmed), or none */
  mark: 'normal' | 'anomaly' | null;
}

export interface ScorePage {
  total: number;
  items: ScoredItem[];
}

export interface ItemScoreDetail extends ScoredItem {
  /** absolute path of the image file */
  path: string;
  /** nearest training inliers in feature space (cosine distance), closest first */
  neighbors: { itemId: number; relPath: string; distance: number }[];
}

export interface ScoreRequest {
  /** the trained run whose detector scores */
  runId: number;
  datasetId: number;
}

export interface ExportRequest {
  runId: number;
  format: 'cfdet' | 'onnx' | 'csv';
  /** where to write: a path the user picked with pickSavePath */
  path: string;
}

// ------------------------------------------------------------------ jobs

export type JobKind = 'scan' | 'extract' | 'train' | 'score' | 'export';

export interface JobProgress {
  /** e.g. 'scan deer', 'extract train', 'train cf' */
  phase: string;
  done: number;
  total: number;
  /** items or steps per second */
  rate: number;
  etaSeconds: number | null;
  /** training only */
  inlierNll?: number;
  contrastNll?: number | null;
  heldOutNll?: number | null;
  /** CF: share of the contrast batch above ε at this step (0 = the contrast term is off) */
  contrastAboveEps?: number | null;
  backend?: string;
}

export type JobEvent =
  | { jobId: string; kind: JobKind; type: 'progress'; progress: JobProgress }
  /** the job's run is recorded (status 'running'): its run view can follow it from now on */
  | { jobId: string; kind: JobKind; type: 'run'; runId: number }
  /** one point of the live loss curve */
  | { jobId: string; kind: JobKind; type: 'loss'; point: LossPoint }
  | { jobId: string; kind: JobKind; type: 'done'; result: JobResult }
  | { jobId: string; kind: JobKind; type: 'failed'; error: ApiError }
  | { jobId: string; kind: JobKind; type: 'cancelled' };

export type JobResult =
  | { kind: 'scan'; dataset: DatasetDetail }
  | { kind: 'train'; runId: number }
  | { kind: 'score'; runId: number }
  | { kind: 'export'; path: string; bytes: number };

// ------------------------------------------------------------------ the contract

/**
 * Request/response channels (`ipcRenderer.invoke` ↔ `ipcMain.handle`).
 * `args` are what the renderer sends; `result` is what the promise resolves to.
 * Main validates every `args` at runtime with zod: the renderer is untrusted.
 */
export interface IpcInvokeContract {
  'app:info': { args: []; result: AppInfo };
  /** where ONNX Runtime extracts, scores and trains from now on (jobs started later use it) */
  'app:setDevice': { args: [{ device: DeviceSetting }]; result: DeviceInfo };
  /** native folder picker; the chosen folder becomes a path the app may read */
  'dialog:pickFolder': { args: [{ title: string }]; result: string | null };
  /** native file picker (e.g. an .onnx extractor) */
  'dialog:pickFile': { args: [{ title: string; extensions: string[] }]; result: string | null };
  /** native save dialog; the chosen path becomes a path the app may write */
  'dialog:pickSavePath': { args: [{ title: string; defaultName: string }]; result: string | null };
  'datasets:list': { args: []; result: DatasetInfo[] };
  'datasets:get': { args: [{ id: number }]; result: DatasetDetail };
  /** scans a picked/dropped folder into the workspace (a job; result kind 'scan') */
  'datasets:add': { args: [{ path: string; name?: string }]; result: { jobId: string } };
  'datasets:items': {
    args: [{ id: number; offset: number; limit: number; label?: string | null }];
    result: ItemPage;
  };
  'datasets:remove': { args: [{ id: number }]; result: void };
  'extractors:list': { args: []; result: ExtractorInfo[] };
  /** registers an .onnx the user picked; the spec comes from the model/sidecar/catalog unless given */
  'extractors:import': {
    args: [{ path: string; name?: string; spec?: ExtractorInputSpecInfo }];
    result: ExtractorInfo;
  };
  'methods:list': { args: []; result: MethodInfo[] };
  /** extracts missing features, trains, evaluates (a job; result kind 'train') */
  'runs:train': { args: [TrainRequest]; result: { jobId: string } };
  /** scores a dataset with a run's detector into a child 'score' run (a job; result kind 'score') */
  'runs:score': { args: [ScoreRequest]; result: { jobId: string } };
  'runs:list': { args: []; result: RunSummary[] };
  'runs:get': { args: [{ id: number }]; result: RunDetail };
  /** the run's scored items ranked by score, most anomalous first */
  'runs:scores': {
    args: [{ id: number; offset: number; limit: number; group?: string | null }];
    result: ScorePage;
  };
  'runs:item': { args: [{ runId: number; itemId: number; neighbors: number }]; result: ItemScoreDetail };
  /** picks and stores the threshold for a target FPR on held-out inliers */
  'runs:setThreshold': { args: [{ runId: number; targetFpr: number }]; result: ThresholdInfo };
  'runs:remove': { args: [{ id: number }]; result: void };
  /** marks images of a run's list 'normal' (false alarm) or 'anomaly' (confirmed); null unmarks */
  'runs:mark': {
    args: [{ runId: number; itemIds: number[]; mark: 'normal' | 'anomaly' | null }];
    result: MarkCounts;
  };
  /** a new run from a run's detector and the marks on its lists (a job; result kind 'train') */
  'runs:retrain': { args: [{ runId: number; anomalyShare?: number }]; result: { jobId: string } };
  /** samples of the detector's flow with their nearest real images: what it thinks is normal */
  'runs:prototypes': { args: [{ runId: number; count: number }]; result: PrototypesInfo };
  /** writes a .cfdet bundle, an .onnx scorer, or the ranked CSV (a job; result kind 'export') */
  'runs:export': { args: [ExportRequest]; result: { jobId: string } };
  'jobs:cancel': { args: [{ jobId: string }]; result: void };
}

export type IpcInvokeChannel = keyof IpcInvokeContract;
export type IpcInvokeArgs<C extends IpcInvokeChannel> = IpcInvokeContract[C]['args'];
export type IpcInvokeResult<C extends IpcInvokeChannel> = IpcInvokeContract[C]['result'];

/** The main → renderer event channel carrying `JobEvent`s. */
export const JOB_EVENT_CHANNEL = 'jobs:event';

/**
 * The API object the renderer sees as `window.cfstudio` (from preload in Electron, from the
 * preview bridge in the browser preview). `invoke` rejects with an Error whose message is the
 * ApiError's message and whose `apiError` property holds the ApiError.
 */
export interface CfStudioApi {
  invoke<C extends IpcInvokeChannel>(channel: C, ...args: IpcInvokeArgs<C>): Promise<IpcInvokeResult<C>>;
  /** subscribes to job events; returns the unsubscribe function */
  onJobEvent(listener: (event: JobEvent) => void): () => void;
  /** URL of an item's thumbnail (longest side `size` px) served by the app's image protocol */
  thumbnailUrl(itemId: number, size: number): string;
  /**
   * The path of a file/folder dropped on the window, or null. Electron only: in the preview
   * (a plain browser) dropped files have no path, and the renderer offers the picker instead.
   */
  pathForDroppedFile(file: File): string | null;
}
