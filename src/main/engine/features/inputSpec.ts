/**
 * The input spec of an image feature extractor: which tensor to feed and read, its size, layout,
 * channel order and normalization, how images are resized to it, and whether the features are
 * L2-normalized afterwards. Every consumer (pixel packing, validation, the flow's preprocessing)
 * reads these fields from one object so that they cannot disagree.
 *
 * A pixel byte p (0..255) of colour c becomes (p · scale − mean[c]) / std[c]; mean and std are
 * always listed as [r, g, b], whatever the channel order of the tensor.
 *
 * `outputName` may name a graph output, any tensor computed inside the graph (it is then added as
 * a graph output when the model is loaded: graphOutput.ts), or a symbol such as "@penultimate"
 * (resolved against the graph when the extractor is registered).
 */
import { z } from 'zod';
import { UserError } from '../util/errors';

const rgb = (what: string) =>
  z.tuple([z.number(), z.number(), z.number()], {
    error: `expected ${what} as three numbers [r, g, b]`,
  });

/** Symbolic output names: what each one stands for (resolved by graphOutput.ts). */
export const SYMBOLIC_OUTPUTS: Readonly<Record<string, string>> = {
  '@penultimate':
    "the input of the graph's last Gemm/MatMul node: the pooled features before a classifier's last layer",
};

const finiteRgb = (what: string) =>
  rgb(what).refine((v) => v.every(Number.isFinite), { error: `${what} values must be finite numbers` });

export const ExtractorInputSpec = z.strictObject({
  /** name of the model input that takes the image tensor */
  inputName: z.string().min(1),
  /**
   * the tensor used as the feature vector ([N, D], or a pooled [N, D, 1, 1] that is flattened): a
   * graph output, an internal tensor of the graph, or a symbol of SYMBOLIC_OUTPUTS ("@penultimate")
   */
  outputName: z
    .string()
    .min(1)
    .refine((v) => !v.startsWith('@') || v in SYMBOLIC_OUTPUTS, {
      error: `unknown symbolic output; known: ${Object.keys(SYMBOLIC_OUTPUTS).join(', ')}`,
    }),
  width: z.number().int().min(1).max(8192),
  height: z.number().int().min(1).max(8192),
  layout: z.enum(['NCHW', 'NHWC']).default('NCHW'),
  channelOrder: z.enum(['RGB', 'BGR']).default('RGB'),
  /** multiplier applied to the 0..255 bytes: 1/255 for a model that takes 0..1, 1 for 0..255 */
  scale: z
    .number()
    .positive()
    .refine(Number.isFinite, { error: 'scale must be a finite number' })
    .default(1 / 255),
  /** subtracted after scaling, [r, g, b]; [0, 0, 0] when the graph normalizes itself */
  mean: finiteRgb('mean').default((): [number, number, number] => [0, 0, 0]),
  /** divides after subtracting the mean, [r, g, b]; [1, 1, 1] when the graph normalizes itself */
  std: finiteRgb('std')
    .refine((v) => v.every((s) => s > 0), { error: 'std values must be > 0' })
    .default((): [number, number, number] => [1, 1, 1]),
  /** 'center-crop': scale the short side to fit, then crop the middle; 'squash': stretch to size */
  resize: z.enum(['center-crop', 'squash']).default('squash'),
  /**
   * Share of the resized image kept by the centre crop (timm's crop_pct). 1 (the default): resize
   * straight to width × height as above. Below 1: resize to the box floor(width / f) ×
   * floor(height / f) ('center-crop': the shorter side to the box, keeping the aspect ratio, as
   * torchvision's Resize(256); 'squash': to the box itself), then cut the central width × height
   * (torchvision's CenterCrop). The ImageNet evaluation transform, resize 256 and crop 224, is
   * 'center-crop' with 0.875.
   */
  cropFraction: z
    .number()
    .gt(0, { error: 'cropFraction must be > 0 and at most 1' })
    .max(1, { error: 'cropFraction must be > 0 and at most 1 (the share of the resized image kept)' })
    .default(1),
  /**
   * METHOD §1: features are projected onto the unit sphere before the flow. Recorded with the
   * extractor so that training, scoring and export agree on it.
   */
  l2Normalize: z.boolean().default(true),
});

/** A complete, validated spec (defaults filled in). */
export type ExtractorInputSpec = z.output<typeof ExtractorInputSpec>;
/** What a spec file may contain: the required fields, the rest optional. */
export type ExtractorInputSpecInput = z.input<typeof ExtractorInputSpec>;

const EXAMPLE =
  '{"inputName": "images", "outputName": "embedding", "width": 224, "height": 224, "layout": "NCHW", ' +
  '"channelOrder": "RGB", "scale": 0.00392156862745098, "mean": [0.485, 0.456, 0.406], ' +
  '"std": [0.229, 0.224, 0.225], "resize": "center-crop", "cropFraction": 0.875, "l2Normalize": true}';

/**
 * Validate a spec read from `source` (a file path, or e.g. `model.onnx metadata "cfstudio.input_spec"`).
 * `json` is either the parsed value or the JSON text. Throws a UserError naming the source and the
 * first bad field.
 */
export function parseInputSpec(json: unknown, source: string): ExtractorInputSpec {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new UserError(
        `The extractor input spec in ${source} is not valid JSON: ${(e as Error).message}`,
        `Write it as a JSON object, for example ${EXAMPLE}`,
      );
    }
  }
  const r = ExtractorInputSpec.safeParse(value);
  if (r.success) return r.data;
  throw new UserError(
    `The extractor input spec in ${source} is invalid: ${describeIssues(r.error.issues)}`,
    `Fix that field. A complete spec looks like ${EXAMPLE} (layout NCHW|NHWC, channelOrder RGB|BGR, ` +
      'resize center-crop|squash, cropFraction in (0, 1]; mean/std are [r, g, b]; outputName a tensor of ' +
      `the model or ${Object.keys(SYMBOLIC_OUTPUTS).join(', ')}).`,
  );
}

/** Field-by-field issue list, e.g. `"std"[1]: std values must be > 0; unknown field "meen"`. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    if (issue.path.length === 0) return issue.message;
    return `field ${formatPath(issue.path)}: ${issue.message}`;
  });
  if (issues.length > 3) parts.push(`and ${issues.length - 3} more`);
  return parts.join('; ');
}

function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? `"${String(p)}"` : `."${String(p)}"`))
    .join('');
}

/** One line for logs and the UI, e.g. `224×224 NCHW RGB, ×1/255, mean [0.485, …], center-crop, L2`. */
export function formatInputSpec(s: ExtractorInputSpec): string {
  const scale = Math.abs(s.scale * 255 - 1) < 1e-9 ? '1/255' : String(s.scale);
  const nums = (v: readonly number[]) => `[${v.map((x) => +x.toPrecision(4)).join(', ')}]`;
  return (
    `${s.inputName} → ${s.outputName}, ${s.width}×${s.height} ${s.layout} ${s.channelOrder}, ` +
    `×${scale}, mean ${nums(s.mean)}, std ${nums(s.std)}, ${formatResize(s)}` +
    (s.l2Normalize ? ', L2-normalized' : '')
  );
}

/**
 * The resize mode in words: `squash`, `center-crop`, or with a crop fraction
 * `center-crop 0.875 (shorter side to 256, centre 224×224)`.
 */
export function formatResize(
  s: Pick<ExtractorInputSpec, 'resize' | 'cropFraction' | 'width' | 'height'>,
): string {
  if (s.cropFraction >= 1) return s.resize;
  const bw = Math.floor(s.width / s.cropFraction + 1e-9);
  const bh = Math.floor(s.height / s.cropFraction + 1e-9);
  const to =
    s.resize === 'center-crop'
      ? bw === bh
        ? `shorter side to ${bw}`
        : `to cover ${bw}×${bh}`
      : `squashed to ${bw}×${bh}`;
  return `${s.resize} ${+s.cropFraction.toPrecision(4)} (${to}, centre ${s.width}×${s.height})`;
}

/** Names of the fields in which two specs differ (empty when they are the same). */
export function diffInputSpecs(a: ExtractorInputSpec, b: ExtractorInputSpec): (keyof ExtractorInputSpec)[] {
  const keys = Object.keys(ExtractorInputSpec.shape) as (keyof ExtractorInputSpec)[];
  return keys.filter((k) => !sameValue(a[k], b[k]));
}

/** Numbers compare with a relative tolerance: 1/255 written as 0.00392157 is the same scale. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  }
  return a === b;
}
