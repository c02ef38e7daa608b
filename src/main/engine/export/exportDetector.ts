/**
 * A detector as a standalone ONNX model (`cfstudio export --format onnx`):
 *
 *   features [N, D] ──preprocessing──▶ x ──flow(s), the IR of flowGraph.ts──▶ score [N], log_prob [N]
 *
 * - preprocessing, written here directly in ONNX (it is not part of the flow IR):
 *   standardize / median-iqr: Gather(kept columns) → Sub(center) → Div(scale);
 *   l2: x / max(‖x‖₂, 1e-30) per row (a zero row stays zero, as in l2Normalize); none: nothing.
 * - the flows: the same `appendLogProb` graph the trainer and scorer run, written by the IR
 *   emitter of onnxGraph.ts (one translation per IR op; no second hand-written flow).
 *   score = −log pθ(x) (CF, Flow, OE) or log qφ(x) − log pθ(x) (Flow-ratio); log_prob = log pθ(x).
 * - with an extractor (`--with-extractor`): the extractor's own graph (decoded, every name but its
 *   image input prefixed with `extractor/`) runs first; its feature output feeds the preprocessing.
 *   The model input is then the extractor's image tensor, described in the metadata.
 * - metadata_props (`cfstudio.*`): method, ε, threshold(s) (none: said so), dimensions,
 *   preprocessing, extractor name/sha256, training data hashes, app versions.
 *
 * Only inference ops are written (no training graph, no optimizer state), at opset 17 (or the
 * extractor's own default-domain opset when fused, which must be within 13–20).
 */
import { createHash } from 'node:crypto';
import onnxProto from 'onnx-proto';
import type { Detector, DetectorFlow } from '../detector/types';
import { FLOW_METHODS, METHOD_LABELS } from '../detector/methods';
import { inputColumns, inputDim } from '../detector/preprocess';
import { parseInputSpec, formatInputSpec, type ExtractorInputSpec } from '../features/inputSpec';
import { appendLogProb, flowParamShapes } from '../flow/flowGraph';
import { GraphBuilder, type Graph } from '../flow/graph';
import { UserError, userError } from '../util/errors';
import {
  emitIrGraph,
  floatTensor,
  floatValueInfo,
  MAX_OPSET,
  MIN_OPSET,
  OnnxEmitter,
  type TensorProto,
} from '../flow/onnxGraph';

const { onnx } = onnxProto;

/** Identifies models written by this exporter (metadata `cfstudio.format`). */
export const ONNX_SCORER_FORMAT = 'cfstudio-onnx-scorer';
/** Bumped when the model's inputs, outputs or metadata change meaning. */
export const ONNX_SCORER_VERSION = 1;
/** Default-domain opset of a plain export (ONNX Runtime ≥ 1.13 runs it). */
export const EXPORT_OPSET = 17;
const IR_VERSION = 8;
/** Prefix of the extractor's tensor and node names inside a fused model. */
export const EXTRACTOR_PREFIX = 'extractor/';
/** Name of the input of a plain (features) export. */
export const FEATURES_INPUT = 'features';

export interface ExportOnnxOptions {
  /** fuse this extractor (the .onnx bytes whose sha256 the detector recorded) in front */
  extractor?: { bytes: Uint8Array; file: string };
  /** version of the app writing the file */
  appVersion: string;
  /** name of the detector file, for messages */
  source?: string;
}

export interface ExportOnnxResult {
  bytes: Uint8Array;
  metadata: Record<string, string>;
  /** the model input: name and dims ('N' = batch) */
  input: { name: string; dims: (number | string)[] };
  opset: number;
}

/** The IR of the scoring pass: x [N, D] → score [N], p.logp [N] (flow parameters prefixed p. / q.). */
export function buildScoreGraph(det: Detector): {
  graph: Graph;
  flows: { prefix: string; flow: DetectorFlow }[];
} {
  const p = det.flows.find((f) => f.role === 'inlier');
  if (!p) throw new Error('detector has no inlier flow');
  const q = det.method === 'ratio' ? det.flows.find((f) => f.role === 'contrast') : undefined;
  const g = new GraphBuilder();
  const x = g.input('x', ['N', p.spec.dim]);
  const lp = appendLogProb(g, p.spec, x, 'p.');
  const flows = [{ prefix: 'p.', flow: p }];
  let score: string;
  if (q) {
    const lq = appendLogProb(g, q.spec, x, 'q.');
    flows.push({ prefix: 'q.', flow: q });
    score = g.sub(lq, lp, 'score');
  } else score = g.neg(lp, 'score');
  return { graph: g.build([score, lp]), flows };
}

/** Refuses what the ONNX export cannot write, with the reason. */
function checkExportable(det: Detector, source: string): void {
  if (!FLOW_METHODS.includes(det.method) || det.baseline) {
    throw userError(
      'method-not-exportable',
      `ONNX export supports the flow methods ${FLOW_METHODS.join(', ')}; ${source} is a ${METHOD_LABELS[det.method]} detector`,
      { method: det.method, label: METHOD_LABELS[det.method] },
    );
  }
  if (!det.flows.some((f) => f.role === 'inlier'))
    throw new UserError(`${source} has no trained flow`, 'train the detector again');
}

/** Appends the preprocessing nodes; returns the name of the preprocessed [N, D'] tensor. */
function emitPreprocessing(e: OnnxEmitter, det: Detector, input: string): string {
  const p = det.preprocessing;
  switch (p.kind) {
    case 'standardize':
    case 'median-iqr': {
      const s = p.standardizer;
      let x = input;
      const identity = s.keep.length === s.inputColumns.length && s.keep.every((k, i) => k === i);
      if (!identity)
        x = e.node('Gather', [x, e.int64Vector('keep', s.keep)], e.fresh('kept_columns'), [
          { name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 },
        ]);
      const centered = e.node('Sub', [x, e.floatVector('center', s.center)], e.fresh('centered'));
      return e.node('Div', [centered, e.floatVector('scale', s.scale)], `${e.prefix}preprocessed`);
    }
    case 'l2': {
      const norm = e.reduceL2Rows(input, e.fresh('l2_norm'));
      const safe = e.node('Max', [norm, e.floatConst('tiny', 1e-30)], e.fresh('l2_norm_safe'));
      return e.node('Div', [input, safe], `${e.prefix}preprocessed`);
    }
    case 'none':
      return input;
  }
}

function describePreprocessing(det: Detector): string {
  const p = det.preprocessing;
  switch (p.kind) {
    case 'standardize':
    case 'median-iqr': {
      const s = p.standardizer;
      const what = p.kind === 'standardize' ? 'mean/std' : 'median/IQR';
      const dropped = s.dropped.length
        ? `; ${s.dropped.length} constant column(s) dropped: ${s.dropped.map((d) => d.column).join(', ')}`
        : '';
      return `${p.kind}: (x − center) / scale with the ${what} of the inlier training rows${dropped}`;
    }
    case 'l2':
      return 'l2: every row scaled to unit Euclidean norm';
    case 'none':
      return 'none';
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Int64 = number | { toNumber(): number } | null | undefined;
const toNumber = (v: Int64): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

/** Renames every tensor and node name of a graph (and its subgraphs) through `rename`. */
function renameGraph(g: onnxProto.onnx.IGraphProto, rename: (n: string) => string): void {
  const r = (n: string) => (n === '' ? n : rename(n));
  for (const n of g.node ?? []) {
    n.input = (n.input ?? []).map(r);
    n.output = (n.output ?? []).map(r);
    if (n.name) n.name = rename(n.name);
    for (const a of n.attribute ?? []) {
      if (a.g) renameGraph(a.g, rename);
      for (const sg of a.graphs ?? []) renameGraph(sg, rename);
    }
  }
  for (const t of g.initializer ?? []) t.name = r(t.name ?? '');
  for (const s of g.sparseInitializer ?? []) {
    if (s.values) s.values.name = r(s.values.name ?? '');
    if (s.indices) s.indices.name = r(s.indices.name ?? '');
  }
  for (const v of [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])]) v.name = r(v.name ?? '');
}

interface FusedExtractor {
  model: onnxProto.onnx.ModelProto;
  graph: onnxProto.onnx.IGraphProto;
  spec: ExtractorInputSpec;
  opset: number;
  /** the fused graph's image input, and the renamed feature output */
  inputName: string;
  inputDims: (number | string)[];
  featureOutput: string;
}

function dimsOf(v: onnxProto.onnx.IValueInfoProto | undefined): (number | string)[] | null {
  const dims = v?.type?.tensorType?.shape?.dim;
  if (!dims) return null;
  return dims.map((d) =>
    d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue as Int64) : '?',
  );
}

/** Decodes the extractor, checks it is the one the detector was trained with, renames it for fusion. */
function prepareExtractor(
  det: Detector,
  ex: { bytes: Uint8Array; file: string },
  source: string,
): FusedExtractor {
  const meta = det.meta.extractor;
  if (!meta)
    throw userError(
      'detector-not-for-images',
      `${source} was trained on table features, not on an image extractor's features, so no extractor can be fused in front of it`,
      { source },
    );
  const actual = sha256(ex.bytes);
  if (actual !== meta.sha256)
    throw new UserError(
      `${ex.file} is not the extractor ${source} was trained with (sha256 ${actual.slice(0, 12)}…, the detector needs "${meta.name}" ${meta.sha256.slice(0, 12)}…)`,
      `use the model file of extractor "${meta.name}" (sha256 ${meta.sha256.slice(0, 12)}…)`,
    );
  const spec = parseInputSpec(meta.spec, `${source} (extractor "${meta.name}")`);
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(ex.bytes);
  } catch (e) {
    throw new UserError(
      `${ex.file} is not a readable ONNX model: ${(e as Error).message}`,
      'pass the extractor .onnx file the detector was trained with',
    );
  }
  const graph = model.graph;
  if (!graph) throw new UserError(`${ex.file} has no graph`, 'pass a complete ONNX model');
  const defaultOpset = (model.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = toNumber(defaultOpset?.version as Int64);
  if (!(opset >= MIN_OPSET && opset <= MAX_OPSET))
    throw new UserError(
      `${ex.file} uses ONNX opset ${opset}; fusing supports extractors with opset ${MIN_OPSET}–${MAX_OPSET}`,
      `convert it first (python: onnx.version_converter.convert_version(model, ${EXPORT_OPSET})), or export the detector alone (it then takes feature rows)`,
    );
  const input = (graph.input ?? []).find((i) => i.name === spec.inputName);
  const output = (graph.output ?? []).find((o) => o.name === spec.outputName);
  if (!input || !output)
    throw new UserError(
      `${ex.file} has no ${!input ? `input "${spec.inputName}"` : `output "${spec.outputName}"`} (from the detector's extractor spec)`,
      'pass the extractor .onnx file the detector was trained with',
    );
  const outDims = dimsOf(output);
  const want = inputDim(det.preprocessing);
  if (outDims && outDims.length === 2 && typeof outDims[1] === 'number' && outDims[1] !== want)
    throw new UserError(
      `${ex.file} outputs ${outDims[1]} features on "${spec.outputName}", the detector ${source} takes ${want}`,
      'pass the extractor the detector was trained with',
    );
  const inputDims = dimsOf(input) ?? ['N', 3, spec.height, spec.width];
  renameGraph(graph, (n) => (n === spec.inputName ? n : EXTRACTOR_PREFIX + n));
  return {
    model,
    graph,
    spec,
    opset,
    inputName: spec.inputName,
    inputDims,
    featureOutput: EXTRACTOR_PREFIX + spec.outputName,
  };
}

/** The threshold a detector carries (`threshold`, or the older `thresholds` list), with the FPR it was picked at. */
function thresholdsOf(det: Detector): { value: number; fpr: number }[] {
  if (det.threshold) return [{ value: det.threshold.value, fpr: det.threshold.targetFpr }];
  const t = (det as { thresholds?: { value: number; fpr: number }[] }).thresholds;
  return Array.isArray(t) ? t : [];
}

function metadataOf(
  det: Detector,
  opts: ExportOnnxOptions,
  input: { name: string; dims: (number | string)[] },
  fused: FusedExtractor | null,
): Record<string, string> {
  const p = det.flows.find((f) => f.role === 'inlier')!;
  const ratio = det.method === 'ratio' && det.flows.some((f) => f.role === 'contrast');
  const thresholds = thresholdsOf(det);
  const m: Record<string, string> = {
    'cfstudio.format': ONNX_SCORER_FORMAT,
    'cfstudio.format_version': String(ONNX_SCORER_VERSION),
    'cfstudio.method': det.method,
    'cfstudio.method_label': METHOD_LABELS[det.method],
    'cfstudio.score': ratio
      ? 'score = log q(x) − log p(x) (Flow-ratio); higher = more anomalous'
      : 'score = −log p(x); higher = more anomalous',
    'cfstudio.outputs': `score [N] float32; log_prob [N] float32 = log p(x) of the inlier flow${thresholds.length ? '; is_anomaly [N] bool = score ≥ cfstudio.threshold' : ''}`,
    'cfstudio.epsilon': det.eps ? String(det.eps.value) : 'none',
    'cfstudio.epsilon_mode': det.eps ? det.eps.mode : 'none',
    'cfstudio.threshold': thresholds.length
      ? thresholds.map((t) => `${t.value} @ FPR ${t.fpr}`).join('; ')
      : 'none: this detector has no decision threshold (it was not picked at any false-positive rate); choose one from the scores of held-out inliers, e.g. their 95th percentile for a 5 % false-positive rate',
    'cfstudio.feature_dim': String(inputDim(det.preprocessing)),
    'cfstudio.flow_dim': String(p.spec.dim),
    'cfstudio.flow': `${p.spec.blocks} coupling blocks, hidden ${p.spec.hidden}, clamp ${p.spec.clamp}`,
    'cfstudio.preprocessing': describePreprocessing(det),
    'cfstudio.input': `${input.name} [${input.dims.join(', ')}] float32`,
    'cfstudio.extractor.name': det.meta.extractor?.name ?? 'none (table features)',
    'cfstudio.extractor.sha256': det.meta.extractor?.sha256 ?? 'none',
    'cfstudio.extractor.fused': fused ? 'yes' : 'no',
    'cfstudio.data_hash.inliers': det.meta.dataHashes.inliers,
    'cfstudio.data_hash.contrast': det.meta.dataHashes.contrast ?? 'none',
    'cfstudio.inlier_rows': String(det.meta.inlierRows),
    'cfstudio.seed': String(det.meta.seed),
    'cfstudio.trained_at': det.meta.createdAt,
    'cfstudio.trained_with_app_version': det.meta.appVersion,
    'cfstudio.app_version': opts.appVersion,
    'cfstudio.exported_at': new Date().toISOString(),
  };
  if (!det.meta.extractor) m['cfstudio.input_columns'] = JSON.stringify(inputColumns(det.preprocessing));
  if (fused) {
    m['cfstudio.image_input_spec'] = JSON.stringify(fused.spec);
    m['cfstudio.input_description'] =
      `the image tensor of extractor "${det.meta.extractor!.name}": ${formatInputSpec(fused.spec)}; ` +
      'pixel byte p of colour c → (p·scale − mean[c]) / std[c]; the L2 normalization and the flow run inside the model';
  } else {
    m['cfstudio.input_description'] = det.meta.extractor
      ? `raw (not normalized) features of extractor "${det.meta.extractor.name}" ([N, ${inputDim(det.preprocessing)}]); the model applies the preprocessing itself`
      : 'raw table rows in the training column order (cfstudio.input_columns); the model applies the preprocessing itself';
  }
  return m;
}

/** Writes `det` (a flow detector) as an ONNX model; see the file comment. */
export function exportDetectorOnnx(det: Detector, opts: ExportOnnxOptions): ExportOnnxResult {
  const source = opts.source ?? 'the detector';
  checkExportable(det, source);
  const fused = opts.extractor ? prepareExtractor(det, opts.extractor, source) : null;
  const opset = fused ? fused.opset : EXPORT_OPSET;
  const e = new OnnxEmitter('cf/', opset);

  const batch = fused ? (fused.inputDims[0] ?? 'N') : 'N';
  const input = fused
    ? { name: fused.inputName, dims: fused.inputDims }
    : { name: FEATURES_INPUT, dims: ['N', inputDim(det.preprocessing)] as (number | string)[] };
  const x = emitPreprocessing(e, det, fused ? fused.featureOutput : FEATURES_INPUT);

  const { graph, flows } = buildScoreGraph(det);
  const bind: Record<string, string> = { x };
  const params: TensorProto[] = [];
  for (const { prefix, flow } of flows) {
    for (const { name, shape } of flowParamShapes(flow.spec)) {
      const onnxName = `flow/${prefix}${name}`;
      params.push(floatTensor(onnxName, shape, flow.params[name]));
      bind[prefix + name] = onnxName;
    }
  }
  emitIrGraph(e, graph, { bind, outputNames: { score: 'score', 'p.logp': 'log_prob' } });

  const outputs = [floatValueInfo('score', [batch]), floatValueInfo('log_prob', [batch])];
  // with a decision threshold: is_anomaly = score ≥ threshold (the first threshold when several)
  const [decision] = thresholdsOf(det);
  if (decision) {
    e.initializers.push(floatTensor('cf/threshold', [], new Float32Array([decision.value])));
    e.nodes.push(
      onnx.NodeProto.create({
        opType: 'GreaterOrEqual',
        name: 'cf/is_anomaly',
        input: ['score', 'cf/threshold'],
        output: ['is_anomaly'],
      }),
    );
    outputs.push(
      onnx.ValueInfoProto.create({
        name: 'is_anomaly',
        type: {
          tensorType: {
            elemType: onnx.TensorProto.DataType.BOOL,
            shape: { dim: [typeof batch === 'number' ? { dimValue: batch } : { dimParam: batch }] },
          },
        },
      }),
    );
  }
  const metadata = metadataOf(det, opts, input, fused);
  const g = fused
    ? fused.graph
    : onnx.GraphProto.create({ input: [floatValueInfo(FEATURES_INPUT, input.dims)] });
  g.name = `cfstudio_${det.method}_scorer`;
  g.node = [...(g.node ?? []), ...e.nodes];
  g.initializer = [...(g.initializer ?? []), ...e.initializers, ...params];
  g.output = outputs;
  const opsetImport = fused
    ? (fused.model.opsetImport ?? []).map((o) =>
        !o.domain || o.domain === 'ai.onnx' ? { domain: '', version: opset } : o,
      )
    : [{ domain: '', version: opset }];
  const model = onnx.ModelProto.create({
    irVersion: Math.max(IR_VERSION, fused ? toNumber(fused.model.irVersion as Int64) : 0),
    producerName: 'cfstudio',
    producerVersion: opts.appVersion,
    docString: `CF Studio ${METHOD_LABELS[det.method]} anomaly scorer: ${input.name} → score, log_prob${decision ? ', is_anomaly' : ''}. See metadata_props (cfstudio.*).`,
    opsetImport,
    graph: g,
    metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
  });
  return { bytes: onnx.ModelProto.encode(model).finish(), metadata, input, opset };
}
