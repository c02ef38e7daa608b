/**
 * Image feature extractors: input specs, the ONNX Runtime extractor, spec resolution, the model
 * catalog and verified downloads. (jobs/extractFeatures.ts, which ties them to the workspace store,
 * is imported directly so that this index does not pull in the store.)
 */
export {
  ExtractorInputSpec,
  SYMBOLIC_OUTPUTS,
  diffInputSpecs,
  formatInputSpec,
  formatResize,
  parseInputSpec,
  type ExtractorInputSpecInput,
} from './inputSpec';
export {
  PENULTIMATE,
  describeFeatureOutput,
  modelWithOutput,
  readGraphStructure,
  resolveFeatureOutput,
  type FeatureOutput,
  type GraphNode,
  type GraphStructure,
} from './graphOutput';
export { pixelsToTensor } from './pixelsToTensor';
export { readOnnxMetadataProps, readOnnxModelInfo, type OnnxModelInfo } from './onnxMetadata';
export {
  CatalogEntry,
  catalogDownload,
  findCatalogEntry,
  findCatalogEntryBySha256,
  getCatalogEntry,
  listCatalog,
  type CatalogDownload,
  type CatalogOptions,
} from './catalog';
export { resourcePath, resourcesDir } from './resources';
export { sha256File } from './sha256File';
export {
  SPEC_METADATA_KEY,
  resolveExtractorSpec,
  sidecarPaths,
  type ResolveSpecOptions,
  type ResolvedSpec,
  type SpecSource,
} from './resolveSpec';
export {
  checkModelMatchesSpec,
  formatShape,
  type ModelShapeFacts,
  type ModelSignature,
  type ValueInfo,
} from './validateSpec';
export { providerUnavailableReason } from '../backend/ortProviders';
export {
  defaultProviders,
  openOrtSession,
  type OpenSessionOptions,
  type OpenedSession,
  type ProviderAttempt,
  type ProviderName,
} from './ortSession';
export { OnnxExtractor, type ExtractorOutput, type OnnxExtractorOptions } from './onnxExtractor';
export {
  downloadModel,
  ensureCatalogModel,
  type DownloadOptions,
  type DownloadProgress,
  type DownloadResult,
  type EnsureModelOptions,
} from './download';
