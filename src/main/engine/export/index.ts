/**
 * Detectors leaving the app: the ONNX scorer (features or images → score, log_prob; the flow
 * written by the IR emitter), running it in ONNX Runtime, and .cfdet import into a workspace.
 */
export {
  buildScoreGraph,
  exportDetectorOnnx,
  EXPORT_OPSET,
  EXTRACTOR_PREFIX,
  FEATURES_INPUT,
  ONNX_SCORER_FORMAT,
  ONNX_SCORER_VERSION,
  type ExportOnnxOptions,
  type ExportOnnxResult,
} from './exportDetector';
export { emitIrGraph, OnnxEmitter, OP_EMITTERS, MAX_OPSET, MIN_OPSET } from '../flow/onnxGraph';
export { checkScorerMetadata, OnnxScorer, type OnnxScores } from './onnxScorer';
