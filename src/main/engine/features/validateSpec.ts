/**
 * Checks that a loaded ONNX model fits its input spec before any image is decoded: the named
 * input exists and is a float32 image tensor of rank 4 with 3 channels where the layout puts
 * them ([N, 3, H, W] for NCHW, [N, H, W, 3] for NHWC), fixed spatial sizes equal the spec's, and
 * the named output is a feature matrix [N, D], or a pooled tensor read as one ([N, D, 1, 1],
 * [N, 1, 1, D]: at most one dimension after the batch above 1). Symbolic (dynamic) dimensions are
 * accepted; the extractor checks the actual shape on a blank image.
 */
import { UserError } from '../util/errors';
import type { ExtractorInputSpec } from './inputSpec';

/** One input or output as ONNX Runtime describes it; symbolic dims are strings. */
export interface ValueInfo {
  readonly name: string;
  readonly isTensor?: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** The part of an `ort.InferenceSession` these checks read. */
export interface ModelSignature {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueInfo[];
  readonly outputMetadata: readonly ValueInfo[];
}

export interface ModelShapeFacts {
  /** a batch size fixed in the graph (e.g. exported with batch 1), null when dynamic */
  batch: number | null;
  /** the feature dimension D when the graph fixes it, null when symbolic */
  dim: number | null;
  /** rank of the output as declared (2 for [N, D], 4 for a pooled [N, D, 1, 1]); null when undeclared */
  rank: number | null;
}

/** The output shapes an extractor accepts, in words. */
export const POOLED_SHAPES = '[N, D], or a pooled [N, D, 1, 1] (read as [N, D])';

const IMAGE_SHAPES = 'an image extractor takes [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC)';

/** `[batch, 3, 32, 32]`; unnamed dynamic dims print as `?`. */
export function formatShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.map((d) => (d === '' ? '?' : String(d))).join(', ')}]`;
}

/** The UserError for a model whose input is not an image tensor. */
export function notAnImageModel(modelFile: string, input: ValueInfo, detail?: string): UserError {
  const what =
    input.isTensor === false
      ? 'is not a tensor'
      : input.shape && input.shape.length > 0
        ? `has shape ${formatShape(input.shape)}`
        : 'has no declared shape';
  return new UserError(
    `"${modelFile}" is not an image model CF Studio can use: its input "${input.name}" ${what}; ${IMAGE_SHAPES}` +
      (detail ? ` (${detail})` : ''),
    'Choose an image feature extractor (e.g. a MoCo encoder exported to ONNX). Tabular data (CSV, .npy) need no ' +
      'extractor: train on the table directly.',
  );
}

/** UserError when the model does not fit the spec; otherwise what the graph fixes (batch, D). */
export function checkModelMatchesSpec(
  model: ModelSignature,
  spec: ExtractorInputSpec,
  modelFile: string,
): ModelShapeFacts {
  const listIo = (infos: readonly ValueInfo[]) =>
    infos.map((v) => `"${v.name}"${v.shape ? ` ${formatShape(v.shape)}` : ''}`).join(', ') || 'none';

  const input = model.inputMetadata.find((v) => v.name === spec.inputName);
  if (!model.inputNames.includes(spec.inputName) || !input) {
    throw new UserError(
      `"${modelFile}" has no input "${spec.inputName}"; its inputs are ${listIo(model.inputMetadata)}`,
      'Set "inputName" in the extractor spec (sidecar <model>.json or the spec file) to the image input.',
    );
  }
  if (input.isTensor === false) throw notAnImageModel(modelFile, input);
  if (input.type !== undefined && input.type !== 'float32') {
    throw new UserError(
      `"${modelFile}" takes ${input.type} on its input "${input.name}"; CF Studio feeds float32 pixels`,
      'Export the model with a float32 image input (scaling and normalization can stay inside the graph).',
    );
  }
  const shape = input.shape ?? [];
  let batch: number | null = null;
  if (shape.length > 0) {
    if (shape.length !== 4) throw notAnImageModel(modelFile, input);
    const [n, a, b, c] = shape;
    const [ch, h, w] = spec.layout === 'NCHW' ? [a, b, c] : [c, a, b];
    if (typeof ch === 'number' && ch !== 3) {
      const other = spec.layout === 'NCHW' ? c : a;
      const otherLayout = spec.layout === 'NCHW' ? 'NHWC' : 'NCHW';
      if (other === 3) {
        throw new UserError(
          `"${modelFile}": its input "${input.name}" has shape ${formatShape(shape)}, which is ${otherLayout}, ` +
            `but the extractor spec says ${spec.layout}`,
          `Set "layout": "${otherLayout}" in the extractor spec.`,
        );
      }
      throw notAnImageModel(modelFile, input, `${ch} channels where the ${spec.layout} layout expects 3`);
    }
    if ((typeof h === 'number' && h !== spec.height) || (typeof w === 'number' && w !== spec.width)) {
      throw new UserError(
        `"${modelFile}" takes ${w}×${h} images on its input "${input.name}" (shape ${formatShape(shape)}), ` +
          `but the extractor spec says ${spec.width}×${spec.height}`,
        `Set "width": ${w}, "height": ${h} in the extractor spec, or export the model with dynamic or matching sizes.`,
      );
    }
    if (typeof n === 'number' && n > 0) batch = n;
  }

  const output = model.outputMetadata.find((v) => v.name === spec.outputName);
  if (!model.outputNames.includes(spec.outputName) || !output) {
    throw new UserError(
      `"${modelFile}" has no output "${spec.outputName}"; its outputs are ${listIo(model.outputMetadata)}`,
      'Set "outputName" in the extractor spec to the feature output (for MoCo v2: the projection head, 128-d).',
    );
  }
  const oshape = output.shape ?? [];
  const rest = oshape.slice(1);
  // two dimensions after the batch above 1: not one vector per image (symbolic ones are run to see)
  const spread = rest.filter((d) => typeof d === 'number' && d > 1).length > 1;
  if (output.isTensor === false || oshape.length === 1 || spread) {
    throw new UserError(
      `"${modelFile}" cannot be used as a feature extractor: its output "${output.name}" ` +
        `${output.isTensor === false ? 'is not a tensor' : `has shape ${formatShape(oshape)}`}; ` +
        `CF Studio needs one feature vector per image: ${POOLED_SHAPES}`,
      'Choose another tensor in "outputName" (for a CNN, the features after its global pooling, e.g. ' +
        '"@penultimate", the input of the last Gemm/MatMul node), or export the model with a Flatten before that output.',
    );
  }
  let dim: number | null = null;
  if (rest.length > 0 && rest.every((d) => typeof d === 'number')) {
    const d = (rest as number[]).reduce((a, b) => a * b, 1);
    if (d > 0) dim = d;
  }
  return { batch, dim, rank: oshape.length > 0 ? oshape.length : null };
}
