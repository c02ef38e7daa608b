/**
 * An image feature extractor backed by ONNX Runtime: takes the float tensor of pixelsToTensor
 * for n images and returns their raw feature vectors, [n, D] row-major (L2 normalization, when
 * the spec asks for it, is applied by the consumer so that stored features stay raw).
 *
 * Loading checks that the file is ONNX, finds the feature tensor (graphOutput.ts: a graph output,
 * an internal tensor, which is then added as a graph output in memory, or "@penultimate"), picks
 * the execution provider (ortSession.ts) and checks the model against the spec (validateSpec.ts).
 * Running checks the output shape and that every value is finite: NaN features would silently
 * poison the flow's training. A pooled tensor [N, D, 1, 1] (or [N, 1, 1, D]: at most one
 * dimension after the batch above 1) is read as [N, D]: the values are the same, row-major.
 */
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors';
import { modelWithOutput, readGraphStructure, resolveFeatureOutput, type FeatureOutput } from './graphOutput';
import type { ExtractorInputSpec } from './inputSpec';
import { readOnnxModelInfo } from './onnxMetadata';
import { openOrtSession, type ProviderAttempt, type ProviderName } from './ortSession';
import { checkModelMatchesSpec, formatShape, POOLED_SHAPES } from './validateSpec';

export interface OnnxExtractorOptions {
  /** execution providers to try in order (CPU is always the fallback); default: by platform */
  providers?: ProviderName[];
  /** intra-op threads; default: ONNX Runtime's choice */
  threads?: number;
}

/** The feature tensor of a loaded extractor, with the shape it had on one blank image. */
export interface ExtractorOutput extends FeatureOutput {
  /** its shape for one blank image (or one fixed-size batch), e.g. [1, 512, 1, 1] */
  shape: number[];
  /** more than two dimensions, read as [N, D] */
  flattened: boolean;
}

export class OnnxExtractor {
  private released = false;
  private seenShape: number[] | null = null;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelFile: string,
    /** the spec as loaded, with a symbolic outputName replaced by the tensor it stands for */
    readonly spec: ExtractorInputSpec,
    /** the tensor the features are read from */
    private readonly feature: FeatureOutput,
    private featureDim: number,
    /** the execution provider that runs the model, e.g. 'cpu' */
    readonly provider: ProviderName,
    /** every provider tried, in order, with the reason it was not used */
    readonly providerAttempts: ProviderAttempt[],
    /** batch size fixed in the graph (models exported with batch 1), null when dynamic */
    private readonly fixedBatch: number | null,
  ) {}

  static async load(
    modelFile: string,
    spec: ExtractorInputSpec,
    opts: OnnxExtractorOptions = {},
  ): Promise<OnnxExtractor> {
    // a readable "not an ONNX model" for text files, truncated downloads…, before ONNX Runtime sees it
    await readOnnxModelInfo(modelFile);
    const feature = resolveFeatureOutput(await readGraphStructure(modelFile), spec.outputName, modelFile);
    const resolved = feature.name === spec.outputName ? spec : { ...spec, outputName: feature.name };
    // an internal tensor: the session runs on the file's bytes with that tensor as one more output
    const model = feature.internal ? await modelWithOutput(modelFile, feature.name) : modelFile;
    const { session, provider, attempts } = await openOrtSession(model, {
      ...opts,
      ...(feature.internal ? { label: `${modelFile} (with "${feature.name}" added as an output)` } : {}),
    });
    try {
      const facts = checkModelMatchesSpec(session, resolved, modelFile);
      const ex = new OnnxExtractor(
        session,
        modelFile,
        resolved,
        feature,
        facts.dim ?? 0,
        provider,
        attempts,
        facts.batch,
      );
      // D is learned (and the shape checked) on one blank image (or one fixed-size batch) when the
      // graph does not declare the output as [N, D] with a fixed D, and always for an internal
      // tensor (its declared shape is only ONNX Runtime's inference)
      if (facts.dim === null || facts.rank !== 2 || feature.internal) {
        const b = facts.batch ?? 1;
        ex.featureDim = (await ex.runChunk(new Float32Array(ex.valuesPerImage * b), b)).dim;
      }
      return ex;
    } catch (e) {
      await session.release();
      throw e;
    }
  }

  /** feature dimension D */
  get dim(): number {
    return this.featureDim;
  }

  /** The tensor the features come from, and its shape on a blank image when one was run. */
  get output(): ExtractorOutput {
    const shape = this.seenShape ?? [this.fixedBatch ?? 1, this.featureDim];
    return { ...this.feature, shape, flattened: shape.length > 2 };
  }

  /** Floats per image in the input tensor: 3 · width · height. */
  get valuesPerImage(): number {
    return 3 * this.spec.width * this.spec.height;
  }

  /**
   * Features of `n` images packed by pixelsToTensor: [n, dim] row-major, raw model output.
   * A graph with a fixed batch size is run chunk by chunk (the last chunk padded with zeros).
   */
  async run(pixels: Float32Array, n: number): Promise<Float32Array> {
    if (this.released)
      throw new Error(`OnnxExtractor.run: the extractor for "${this.modelFile}" was released`);
    const per = this.valuesPerImage;
    if (!Number.isInteger(n) || n < 0 || pixels.length !== n * per) {
      throw new Error(
        `OnnxExtractor.run: got ${pixels.length} values for ${n} images; expected ${n} × ${per} ` +
          `(3 × ${this.spec.width} × ${this.spec.height}, from pixelsToTensor)`,
      );
    }
    if (n === 0) return new Float32Array(0);
    if (this.fixedBatch === null || this.fixedBatch === n) {
      return this.check((await this.runChunk(pixels, n)).data, n, 0);
    }
    const b = this.fixedBatch;
    const out = new Float32Array(n * this.dim);
    const chunk = new Float32Array(b * per);
    for (let start = 0; start < n; start += b) {
      const m = Math.min(b, n - start);
      chunk.fill(0);
      chunk.set(pixels.subarray(start * per, (start + m) * per));
      const { data } = await this.runChunk(chunk, b);
      // padding rows are not checked: only the m real images count
      out.set(this.check(data.subarray(0, m * this.dim), m, start), start * this.dim);
    }
    return out;
  }

  /** Frees the ONNX Runtime session (safe to call twice). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }

  private async runChunk(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dim: number }> {
    const { width: w, height: h, layout, inputName, outputName } = this.spec;
    const dims = layout === 'NCHW' ? [n, 3, h, w] : [n, h, w, 3];
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await this.session.run({ [inputName]: new ort.Tensor('float32', pixels, dims) }, [outputName]);
    } catch (e) {
      throw new UserError(
        `ONNX Runtime failed to run "${this.modelFile}" on a batch of ${n}: ${(e as Error).message.split('\n')[0]}`,
        'Check that the extractor spec (input size, layout) matches how the model was exported.',
      );
    }
    const out = result[outputName] as ort.Tensor;
    const shape = out.dims.map(Number);
    // [n, D], or a pooled [n, D, 1, 1] / [n, 1, 1, D]: at most one dimension after the batch above 1
    const rest = shape.slice(1);
    const dim = rest.reduce((a, b) => a * b, 1);
    const pooled = rest.length >= 1 && rest.filter((d) => d !== 1).length <= 1;
    if (shape[0] !== n || !pooled || dim < 1 || (this.dim > 0 && dim !== this.dim)) {
      const wrongDim = shape[0] === n && pooled && dim >= 1;
      throw new UserError(
        `"${this.modelFile}" returned shape ${formatShape(shape)} on "${outputName}" for ${n} image${n === 1 ? '' : 's'}; ` +
          (wrongDim
            ? `expected ${this.dim} features per image, as on the first batch`
            : `CF Studio needs one feature vector per image: ${POOLED_SHAPES}`),
        'Choose a tensor that holds one feature vector per image ("outputName" in the extractor spec): ' +
          'for a CNN classifier, the pooled features after its global pooling, e.g. "@penultimate" ' +
          '(the input of the last Gemm/MatMul node).',
      );
    }
    if (this.seenShape === null) this.seenShape = shape;
    let data: Float32Array;
    if (out.type === 'float32') data = out.data as Float32Array;
    else if (out.type === 'float64') data = Float32Array.from(out.data as Float64Array);
    else {
      throw new UserError(
        `"${this.modelFile}" returns ${out.type} features on "${outputName}"; CF Studio reads float32`,
        'Export the model with a float32 output (e.g. add a Cast to float at the end).',
      );
    }
    return { data, dim };
  }

  /** Throws a UserError at the first NaN/±Inf; `offset` turns a chunk row into the caller's image index. */
  private check(data: Float32Array, n: number, offset: number): Float32Array {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) {
        const row = Math.floor(i / (data.length / n));
        throw new UserError(
          `"${this.modelFile}" produced a non-finite feature (${data[i]}) for image ${offset + row} of this batch`,
          'The model or its input normalization is broken for this input: check the extractor spec ' +
            '(scale, mean, std) and that the model was exported correctly; run it on a few images in Python to compare.',
        );
      }
    }
    return data;
  }
}
