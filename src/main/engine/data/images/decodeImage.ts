/**
 * Decode one image to model input: packed 8-bit RGB (height × width × 3, row-major), through the
 * same path as the folder scan (see openImage), so every file the scan accepted decodes here;
 * `decodeImageFile` also returns the sha256 of exactly the bytes it decoded.
 * Also small thumbnails for the UI, showing exactly the pixels the model sees (alpha dropped too).
 */
import type { Sharp } from 'sharp';
import { UserError } from '../../util/errors';
import { readErrorReason } from './checkImageFile';
import {
  bufferSource,
  hashFile,
  readImageFile,
  type ImageSource,
  type LoadedImageFile,
  type ReadImageOptions,
} from './imageSource';
import { decodeErrorReason, decodeJpegFast, DEFAULT_PIXEL_LIMIT, inspectImage } from './openImage';

/**
 * 'center-crop': scale so the shorter side fits, then cut the centre (sharp fit 'cover'), the
 * standard ImageNet-style evaluation transform: no distortion, the borders are lost.
 * 'squash': scale each axis independently to the target (sharp fit 'fill'): nothing is lost,
 * shapes are distorted.
 */
export type ResizeMode = 'center-crop' | 'squash';

export interface DecodeTarget {
  width: number;
  height: number;
  resize: ResizeMode;
  /**
   * Share of the resized image that the centre crop keeps (timm's crop_pct); 1 when absent.
   * Below 1 the image is first resized to a larger box and then cropped: see resizePlan.
   */
  cropFraction?: number;
}

/** How an image is resized and cropped for a target with a crop fraction below 1. */
export interface ResizePlan {
  /** size the whole image is resized to */
  resizeWidth: number;
  resizeHeight: number;
  /** top-left corner of the width × height crop taken from the resized image */
  left: number;
  top: number;
}

/**
 * The resize-then-crop of torchvision's `Resize(S)` + `CenterCrop(size)`, generalized to any
 * target and crop fraction f < 1, for a source of srcWidth × srcHeight (as displayed, after EXIF
 * orientation):
 *
 *   box = floor(width / f) × floor(height / f)         (224 / 0.875 = 256, as timm computes it)
 *   'center-crop': the side that needs the larger scale becomes the box's side, the other keeps
 *                  the aspect ratio, truncated: 500×375 into 256×256 → 341×256 (torchvision's
 *                  Resize(256): short side = 256, long = int(256 · long / short));
 *   'squash':      resized to the box itself;
 *   crop:          width × height at left = round((resizeWidth − width) / 2),
 *                  top = round((resizeHeight − height) / 2), rounding halves to even as Python's
 *                  round() in torchvision's CenterCrop: 500×375 → 341×256 → left 58, top 16.
 */
export function resizePlan(srcWidth: number, srcHeight: number, target: DecodeTarget): ResizePlan {
  const f = target.cropFraction ?? 1;
  const { width, height } = target;
  // the epsilon keeps e.g. 224 / 0.7 = 319.99999999999994 at 320
  const bw = Math.floor(width / f + 1e-9);
  const bh = Math.floor(height / f + 1e-9);
  let rw = bw;
  let rh = bh;
  if (target.resize === 'center-crop') {
    if (bw * srcHeight >= bh * srcWidth) rh = Math.max(bh, Math.floor((srcHeight * bw) / srcWidth));
    else rw = Math.max(bw, Math.floor((srcWidth * bh) / srcHeight));
  }
  return {
    resizeWidth: rw,
    resizeHeight: rh,
    left: roundHalfEven((rw - width) / 2),
    top: roundHalfEven((rh - height) / 2),
  };
}

/** Python's round(): halves go to the even neighbour (58.5 → 58, 1.5 → 2). */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
}

export interface DecodeOptions {
  /** Largest accepted width × height; default DEFAULT_PIXEL_LIMIT (100 MP), as in the scan. */
  pixelLimit?: number;
}

export interface DecodedImageFile {
  /** RGB pixels as decodeImage returns them */
  pixels: Uint8Array;
  /** sha256 hex of exactly the bytes that were decoded */
  sha256: string;
  /** file size and modification time when it was read */
  bytes: number;
  mtimeMs: number;
}

const DECODE_HINT =
  'Scan the folder again: the file may have changed since it was checked. Otherwise remove or re-export it.';

/** RGB pixels (HWC, length width × height × 3) of the first frame, EXIF-oriented, resized to `target`. */
export async function decodeImage(
  file: string | Buffer,
  target: DecodeTarget,
  opts: DecodeOptions = {},
): Promise<Uint8Array> {
  const source =
    typeof file === 'string' ? (await readFile(file, { hash: false })).source : bufferSource(file);
  return decodeSource(source, describe(file), target, opts);
}

/**
 * Read `file` once, hash those bytes and decode the same bytes: the hash names the pixels for
 * sure (the feature cache is keyed by it), even when the file changes at any moment. Files too
 * large to hold are decoded from their path and hashed again afterwards; a change in between is
 * an error. `within`: refuse a file whose real path is outside this folder (a dataset root).
 */
export async function decodeImageFile(
  file: string,
  target: DecodeTarget,
  opts: DecodeOptions & { within?: string } = {},
): Promise<DecodedImageFile> {
  const { source, sha256, mtimeMs } = await readFile(file, { hash: true, within: opts.within });
  const pixels = await decodeSource(source, describe(file), target, opts);
  if (source.bytes === null && (await hashFile(source.path!).catch(() => null)) !== sha256) {
    throw new UserError(
      `Cannot decode image "${file}": the file changed while it was being read`,
      DECODE_HINT,
    );
  }
  return { pixels, sha256: sha256!, bytes: source.size, mtimeMs };
}

async function decodeSource(
  source: ImageSource,
  name: string,
  target: DecodeTarget,
  opts: DecodeOptions,
): Promise<Uint8Array> {
  const { width, height, resize } = target;
  const fraction = target.cropFraction ?? 1;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`decodeImage: target size must be positive integers, got ${width}×${height}`);
  }
  if (!(fraction > 0 && fraction <= 1)) {
    throw new RangeError(`decodeImage: cropFraction must be in (0, 1], got ${fraction}`);
  }
  // shrink-on-load at full strength can round the scale and alias; quality beats speed here
  const finish =
    fraction === 1
      ? (p: Sharp) =>
          p
            .resize(width, height, {
              fit: resize === 'center-crop' ? 'cover' : 'fill',
              position: 'centre',
              fastShrinkOnLoad: false,
            })
            .raw()
            .toBuffer({ resolveWithObject: true })
      : async (p: Sharp) => {
          // the displayed size (EXIF-oriented, first frame) decides the plan; resize and crop
          // stay one libvips pipeline, so only the cropped pixels are ever computed
          const { autoOrient: src } = await p.metadata();
          const plan = resizePlan(src.width, src.height, target);
          return p
            .resize(plan.resizeWidth, plan.resizeHeight, { fit: 'fill', fastShrinkOnLoad: false })
            .extract({ left: plan.left, top: plan.top, width, height })
            .raw()
            .toBuffer({ resolveWithObject: true });
        };
  const { data, info } = await runPipeline(source, name, opts.pixelLimit ?? DEFAULT_PIXEL_LIMIT, finish);
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(
      `decodeImage: got ${info.width}×${info.height}×${info.channels} instead of ${width}×${height}×3 for ${name}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A JPEG thumbnail fitting inside size × size (never enlarged), for image grids in the UI. */
export async function decodeThumbnail(file: string | Buffer, size: number): Promise<Buffer> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`decodeThumbnail: size must be a positive integer, got ${size}`);
  }
  const source =
    typeof file === 'string' ? (await readFile(file, { hash: false })).source : bufferSource(file);
  // JPEG rather than WebP: faster to encode, and alpha is dropped anyway
  const { data } = await runPipeline(source, describe(file), DEFAULT_PIXEL_LIMIT, (p) =>
    p
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer({ resolveWithObject: true }),
  );
  return data;
}

/** readImageFile, with its failures as a UserError naming the file. */
async function readFile(file: string, opts: ReadImageOptions): Promise<LoadedImageFile> {
  try {
    return await readImageFile(file, opts);
  } catch (e) {
    throw new UserError(`Cannot read image "${file}": ${readErrorReason(e)}`, DECODE_HINT);
  }
}

/** Inspect and decode `source` through `finish`; every failure is a UserError naming the file. */
async function runPipeline<T>(
  source: ImageSource,
  name: string,
  pixelLimit: number,
  finish: (pipeline: Sharp) => Promise<T>,
): Promise<T> {
  const fast = await decodeJpegFast(source, pixelLimit, finish);
  if (fast !== null) return fast;
  const info = await inspectImage(source, pixelLimit);
  if (!info.ok) throw new UserError(`Cannot decode image ${name}: ${info.reason}`, DECODE_HINT);
  try {
    return await info.decode(finish);
  } catch (e) {
    throw new UserError(`Cannot decode image ${name}: ${decodeErrorReason(info.format, e)}`, DECODE_HINT);
  }
}

function describe(file: string | Buffer): string {
  return typeof file === 'string' ? `"${file}"` : `(in-memory, ${file.length} bytes)`;
}
