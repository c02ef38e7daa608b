/**
 * Runs an exported scorer (exportDetector.ts) in ONNX Runtime: what a user of the .onnx file
 * does, and what the parity tests and the export benchmark compare with the engine.
 * Loading checks the file is ONNX and one of ours (metadata `cfstudio.format`), not from a newer
 * exporter; scoring checks the feature dimension before ONNX Runtime sees the batch.
 */
import * as ort from 'onnxruntime-node';
import { readOnnxModelInfo } from '../features/onnxMetadata';
import { openOrtSession, type ProviderAttempt, type ProviderName } from '../features/ortSession';
import { UserError } from '../util/errors';
import type { Matrix } from '../util/matrix';
import { ONNX_SCORER_FORMAT, ONNX_SCORER_VERSION } from './exportDetector';

export interface OnnxScores {
  score: Float32Array;
  logProb: Float32Array;
  /** score ≥ the model's threshold (models exported with a threshold), else null */
  isAnomaly: boolean[] | null;
}

/** Checks the metadata of an exported scorer; returns it. */
export function checkScorerMetadata(meta: Record<string, string>, file: string): Record<string, string> {
  if (meta['cfstudio.format'] !== ONNX_SCORER_FORMAT)
    throw new UserError(
      `${file} is an ONNX model, but not a detector exported by CF Studio (no cfstudio.format metadata)`,
      'export a detector as ONNX with CF Studio first',
    );
  const v = Number(meta['cfstudio.format_version']);
  if (!(v >= 1)) throw new UserError(`${file} has an unreadable cfstudio.format_version`, 'export it again');
  if (v > ONNX_SCORER_VERSION)
    throw new UserError(
      `${file} was exported by a newer CF Studio (scorer format ${v}; this version reads up to ${ONNX_SCORER_VERSION})`,
      'update CF Studio to use it',
    );
  return meta;
}

export class OnnxScorer {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
    readonly metadata: Record<string, string>,
    /** the execution provider it runs on, and the ones tried before it */
    readonly provider: ProviderName,
    readonly attempts: ProviderAttempt[],
  ) {}

  static async load(file: string, opts: { threads?: number } = {}): Promise<OnnxScorer> {
    const info = await readOnnxModelInfo(file);
    const meta = checkScorerMetadata(info.metadataProps, file);
    const { session, provider, attempts } = await openOrtSession(file, { threads: opts.threads });
    return new OnnxScorer(session, file, meta, provider, attempts);
  }

  get inputName(): string {
    return this.session.inputNames[0];
  }

  /** Features the model takes per row (plain exports). */
  get featureDim(): number {
    return Number(this.metadata['cfstudio.feature_dim']);
  }

  get fused(): boolean {
    return this.metadata['cfstudio.extractor.fused'] === 'yes';
  }

  /** Scores raw feature rows (a plain export). */
  async score(x: Matrix, source = 'the input'): Promise<OnnxScores> {
    if (this.fused)
      throw new UserError(
        `${this.file} takes images (it contains the extractor), not feature rows`,
        'feed it the image tensor (scoreImages), or export the detector without its extractor',
      );
    if (x.cols !== this.featureDim)
      throw new UserError(
        `${source} has ${x.cols} feature columns, the model ${this.file} expects ${this.featureDim}`,
        'score data with the same columns (same order) as the training data',
      );
    return this.run(new ort.Tensor('float32', x.data, [x.rows, x.cols]));
  }

  /** Scores an image tensor (a --with-extractor export), dims as the extractor takes them. */
  async scoreImages(pixels: Float32Array, dims: number[]): Promise<OnnxScores> {
    return this.run(new ort.Tensor('float32', pixels, dims));
  }

  private async run(t: ort.Tensor): Promise<OnnxScores> {
    let r: ort.InferenceSession.OnnxValueMapType;
    try {
      r = await this.session.run({ [this.inputName]: t });
    } catch (e) {
      throw new UserError(
        `ONNX Runtime could not run ${this.file} on a [${t.dims.join(', ')}] input: ${(e as Error).message.split('\n')[0]}`,
        'check the input shape against the model metadata (cfstudio.input)',
      );
    }
    return {
      score: (r.score as ort.Tensor).data as Float32Array,
      logProb: (r.log_prob as ort.Tensor).data as Float32Array,
      isAnomaly: r.is_anomaly
        ? Array.from((r.is_anomaly as ort.Tensor).data as Uint8Array, (b) => b !== 0)
        : null,
    };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
