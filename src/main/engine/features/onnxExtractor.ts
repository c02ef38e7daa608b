/**
 * An image feature extractor backed by ONNX Runtime: takes the float tensor of pixelsToTensor
 * for n images and returns their raw feature vectors, [n, D] row-major (L2 normalization, when
 * the spec asks for it, is applied by the consumer so that stored features stay raw).
 *
 * Loading checks that the file is ONNX, picks the execution provider (ortSession.ts) and checks
 * the model against the spec (validateSpec.ts). Running checks the output shape and that every
 * value is finite: NaN features would silently poison the flow's training.
 */
import * as ort from 'onnxruntime-node';
import { UserError } from '../util/errors';
import type { ExtractorInputSpec } from './inputSpec';
import { readOnnxModelInfo } from './onnxMetadata';
import { openOrtSession, type ProviderAttempt, type ProviderName } from './ortSession';
import { checkModelMatchesSpec } from './validateSpec';

export interface OnnxExtractorOptions {
  /** execution providers to try in order (CPU is always the fallback); default: by platform */
  providers?: ProviderName[];
  /** intra-op threads; default: ONNX Runtime's choice */
  threads?: number;
}

export class OnnxExtractor {
  private released = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly modelFile: string,
    readonly spec: ExtractorInputSpec,
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
    const { session, provider, attempts } = await openOrtSession(modelFile, opts);
    try {
      const facts = checkModelMatchesSpec(session, spec, modelFile);
      const ex = new OnnxExtractor(session, modelFile, spec, facts.dim ?? 0, provider, attempts, facts.batch);
      // a symbolic D is learned from one blank image (or one fixed-size batch)
      if (facts.dim === null) {
        const b = facts.batch ?? 1;
        ex.featureDim = (await ex.runChunk(new Float32Array(ex.valuesPerImage * b), b)).dims[1];
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

  private async runChunk(pixels: Float32Array, n: number): Promise<{ data: Float32Array; dims: number[] }> {
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
    if (shape.length !== 2 || shape[0] !== n || shape[1] < 1 || (this.dim > 0 && shape[1] !== this.dim)) {
      throw new UserError(
        `"${this.modelFile}" returned shape [${shape.join(', ')}] on its output "${outputName}" for ${n} images; ` +
          `expected [${n}, ${this.dim > 0 ? this.dim : 'D'}]`,
        'Choose an output that gives one feature vector per image ("outputName" in the extractor spec).',
      );
    }
    let data: Float32Array;
    if (out.type === 'float32') data = out.data as Float32Array;
    else if (out.type === 'float64') data = Float32Array.from(out.data as Float64Array);
    else {
      throw new UserError(
        `"${this.modelFile}" returns ${out.type} features on "${outputName}"; CF Studio reads float32`,
        'Export the model with a float32 output (e.g. add a Cast to float at the end).',
      );
    }
    return { data, dims: shape };
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
