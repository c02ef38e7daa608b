/**
 * The application layer: every use case a user can trigger, once, for every front end (the CLI in
 * src/main/cli, the app's IPC handlers in src/main/ipc). Front ends import the engine only from
 * here (and engine/util): they validate their input, call one use case, and render its result
 * (text, CSV, an IPC view). dependency-cruiser enforces it (.dependency-cruiser.cjs).
 */
export { openWorkspace, defaultWorkspacePath, type Workspace } from './workspace';

// devices, methods and settings
export { DEVICES, isDevice, providerReport, type Device, type ProviderReport } from '../backend/ortProviders';
export {
  METHODS,
  METHOD_INFO,
  METHOD_LABELS,
  isMethod,
  methodInfo,
  type Method,
  type MethodInfo,
} from '../detector/methods';
export type { PreprocessKind } from '../detector/preprocess';
export { detectorConfigFor, type TrainOptions } from './trainOptions';

// datasets and selections
export {
  addImageDataset,
  datasetDetail,
  datasetItems,
  findDataset,
  listDatasets,
  removeDataset,
  type AddDatasetResult,
  type DatasetDetail,
  type DatasetInfo,
  type DatasetItem,
  type LabelCount,
  type ScanProgress,
} from './datasets';
export {
  looksLikePath,
  parseLabelList,
  resolveDataRef,
  selectionLabel,
  selectionOf,
  type ResolvedData,
  type Selection,
} from './selection';
export { itemThumbnail, THUMBNAIL_SIZES } from './thumbnails';

// extractors and extraction
export {
  extractorById,
  extractorInfo,
  extractorSpec,
  listExtractors,
  registerExtractor,
  resolveExtractor,
  type ExtractorInfo,
  type RegisteredExtractor,
} from './extractors';
export { listCatalog, type ExtractorInputSpec } from '../features';
export type { DownloadProgress } from '../features/download';
export { extractSelections, type ExtractProgress, type ExtractResult } from './extraction';

// training, scoring, protocols
export {
  checkTrainRequest,
  HELD_OUT_SHARE,
  MIN_INLIER_IMAGES,
  trainDetector,
  type StudioHooks,
  type StudioProgress,
  type TrainOutcome,
  type TrainRequest,
} from './train';
export type { TrainProgress } from '../train/trainer';
export { retrainInWorker, scoreWithRunInWorker, trainDetectorInWorker } from './inWorker';
export {
  feedbackForDetector,
  markItems,
  resolveImageRefs,
  runMarks,
  type FeedbackMark,
  type MarkCounts,
} from './feedback';
export {
  DEFAULT_ANOMALY_SHARE,
  retrainWithFeedback,
  type RetrainOutcome,
  type RetrainRequest,
} from './retrain';
export {
  scoreWithDetector,
  scoreWithRun,
  scoreListCsv,
  type RankedScore,
  type ScoreRunOutcome,
  type ScoredSelection,
} from './scoring';
export {
  datasetVsDataset,
  oneVsRest,
  type DatasetVsDatasetResult,
  type OneVsRestResult,
  type ProtocolProgress,
  type ProtocolRunResult,
} from './protocols';
export {
  evaluateTable,
  readTable,
  scoreTable,
  trainOnTable,
  type TableScoreOutcome,
  type TableTrainOutcome,
  type TableTrainRequest,
} from './tables';
export type { ProtocolResult as TableProtocolResult } from '../eval/tabularProtocol';

// runs: list, detail, gallery, threshold, neighbours, removal
export { detectorRunOf, getRun, runDetector } from './detectorOfRun';
export {
  listRuns,
  removeRun,
  runDetail,
  runSummary,
  scorePage,
  type PickInfo,
  type RunDetail,
  type RunHistograms,
  type RunSummary,
  type ScoredItem,
} from './runs';
export {
  decisionFor,
  DEFAULT_TARGET_FPR,
  detectorWithDecision,
  type DecisionAsk,
  runThreshold,
  runThresholdOrNull,
  setThreshold,
  type ThresholdInfo,
} from './threshold';
export { itemDetail, type ItemScoreDetail } from './neighbours';
export { RunViewsClient } from './runViewsClient';
export {
  DEFAULT_PROTOTYPES,
  DEFAULT_TEMPERATURE,
  runPrototypes,
  type Prototype,
  type PrototypesResult,
} from './prototypes';
export type { RetrainComparison, RunKind, RunRow, RunStatus, SelectionRef } from '../store';

// detectors in and out
export {
  exportDetectorFile,
  exportRun,
  runCsv,
  type ExportFormat,
  type ExportOptions,
  type ExportOutcome,
} from './exportDetectors';
export { importDetector, readDetectorFile, type ImportResult } from './importDetector';

// about the engine and model files
export {
  backendReport,
  detectorSummary,
  flowTrainingBackend,
  modelFileInfo,
  type BackendReport,
} from './info';
