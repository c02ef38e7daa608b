/**
 * Decode one image to model input: packed 8-bit RGB (height × width × 3, row-major), through the
 * same path as the folder scan (see openImage), so every file the scan accepted decodes here.
 * Also small thumbnails for the UI, showing exactly the pixels the model sees (alpha dropped too).
 */
import type { Sharp } from 'sharp';
import { UserError } from '../../util/errors';
import { readErrorReason } from './checkImageFile';
import { bufferSource, readImageFile, type ImageSource } from './imageSource';
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
}

export interface DecodeOptions {
  /** Largest accepted width × height; default 268_402_689 (sharp's default), as in the scan. */
  pixelLimit?: number;
}

const DECODE_HINT =
  'Scan the folder again: the file may have changed since it was checked. Otherwise remove or re-export it.';

/** RGB pixels (HWC, length width × height × 3) of the first frame, EXIF-oriented, resized to `target`. */
export async function decodeImage(
  file: string | Buffer,
  target: DecodeTarget,
  opts: DecodeOptions = {},
): Promise<Uint8Array> {
  const { width, height, resize } = target;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`decodeImage: target size must be positive integers, got ${width}×${height}`);
  }
  const { data, info } = await runPipeline(file, opts.pixelLimit ?? DEFAULT_PIXEL_LIMIT, (p) =>
    p
      .resize(width, height, {
        fit: resize === 'center-crop' ? 'cover' : 'fill',
        position: 'centre',
        // shrink-on-load at full strength can round the scale and alias; quality beats speed here
        fastShrinkOnLoad: false,
      })
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  if (info.width !== width || info.height !== height || info.channels !== 3) {
    throw new Error(
      `decodeImage: got ${info.width}×${info.height}×${info.channels} instead of ${width}×${height}×3 for ${describe(file)}`,
    );
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** A JPEG thumbnail fitting inside size × size (never enlarged), for image grids in the UI. */
export async function decodeThumbnail(file: string | Buffer, size: number): Promise<Buffer> {
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`decodeThumbnail: size must be a positive integer, got ${size}`);
  }
  // JPEG rather than WebP: faster to encode, and alpha is dropped anyway
  const { data } = await runPipeline(file, DEFAULT_PIXEL_LIMIT, (p) =>
    p
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 80 })
      .toBuffer({ resolveWithObject: true }),
  );
  return data;
}

/** Load, inspect and decode `file` through `finish`; every failure is a UserError naming the file. */
async function runPipeline<T>(
  file: string | Buffer,
  pixelLimit: number,
  finish: (pipeline: Sharp) => Promise<T>,
): Promise<T> {
  let source: ImageSource;
  if (typeof file === 'string') {
    try {
      source = (await readImageFile(file, { hash: false })).source;
    } catch (e) {
      throw new UserError(`Cannot read image "${file}": ${readErrorReason(e)}`, DECODE_HINT);
    }
  } else {
    source = bufferSource(file);
  }
  const fast = await decodeJpegFast(source, pixelLimit, finish);
  if (fast !== null) return fast;
  const info = await inspectImage(source, pixelLimit);
  if (!info.ok) throw new UserError(`Cannot decode image ${describe(file)}: ${info.reason}`, DECODE_HINT);
  try {
    return await info.decode(finish);
  } catch (e) {
    throw new UserError(
      `Cannot decode image ${describe(file)}: ${decodeErrorReason(info.format, e)}`,
      DECODE_HINT,
    );
  }
}

function describe(file: string | Buffer): string {
  return typeof file === 'string' ? `"${file}"` : `(in-memory, ${file.length} bytes)`;
}
