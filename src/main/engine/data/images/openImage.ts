/**
 * The one decoding path shared by the folder scan and by decodeImage, so that every file the scan
 * accepts also decodes later: sniff the format, read the header (size, orientation) without
 * decoding, enforce the pixel limit, then hand out a sharp pipeline producing 8-bit sRGB with
 * 3 channels in display orientation (EXIF applied), first frame/page only, ready to resize.
 */
import fs from 'node:fs';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { BmpError, decodeBmp, readBmpHeader } from './bmp';
import { decodeBytes, withDecodeMemory, type DecodeShape } from './decodeMemory';
import type { ImageSource } from './imageSource';
import { FORMAT_LABELS, sniffFormat, type ImageFormat } from './sniffFormat';
import { gated } from './vipsGate';

/**
 * Largest accepted width × height by default: 100 MP, above nearly every photo (full-frame
 * cameras reach 60 MP; phones save 12–50 MP unless set to their full 108/200 MP mode), yet small
 * enough that the images that must be decoded whole (GIF, WebP, AVIF, HEIF, BMP: ≤ 400 MB each)
 * fit a desktop's memory within the decode memory budget. sharp's own default (268 MP, 0x3FFF²)
 * let a 1 MB PNG claim 1 GB. Callers can raise it (pixelLimit options).
 */
export const DEFAULT_PIXEL_LIMIT = 100_000_000;

/**
 * Alpha is dropped at full size, before resizing (exact, see orient), up to this many pixels
 * (4096², a 64 MB RGBA frame). Larger images with alpha are resized streaming, with sharp's
 * alpha-weighted resize, so their memory stays bounded; the pixels differ only where areas are
 * (nearly) transparent.
 */
export const EXACT_ALPHA_MAX_PIXELS = 4096 * 4096;

/** Decoders that produce the whole frame before anything else (see decodeMemory). */
const WHOLE_FRAME_FORMATS: ReadonlySet<ImageFormat> = new Set(['gif', 'webp', 'avif', 'heif']);

/** Reserved for a JPEG on the fast path, whose size is not read first: it decodes line by line. */
const JPEG_FAST_PATH_BYTES = 32 * 1024 * 1024;

export interface DecodeMode {
  /**
   * Drop alpha at full size before resizing, for pixels identical to a PIL-style pipeline
   * (default true). The folder scan's check only needs to know that the file decodes, so it
   * streams instead.
   */
  exactAlpha?: boolean;
}

/**
 * How strict the decoders are. 'error' rejects truncated files and anything a decoder reports as
 * an error (e.g. a PNG whose checksum fails, which 'truncated' would let through), but accepts
 * warnings: 'warning' (sharp's default) would reject many intact photos over harmless issues such
 * as stray bytes after a JPEG's last scan or a known-incorrect sRGB profile in a PNG. Note that
 * JPEG decoders recover silently from damage inside the compressed pixel data, so such files decode
 * (with visible blocks) and cannot be told apart from intact ones by decoding.
 */
export const FAIL_ON = 'error' as const;

export type Inspection =
  | {
      ok: true;
      format: ImageFormat;
      /** Size as displayed, i.e. after EXIF rotation (a portrait phone photo is taller than wide). */
      width: number;
      height: number;
      /** Channels as stored (alpha included), from the header. */
      channels: number;
      hasAlpha: boolean;
      /**
       * Decode: `finish` gets the pipeline (3-channel 8-bit sRGB, oriented), chains resize() and an
       * output on it, and returns the result. A failure throws the decoder's error. Runs within the
       * process-wide decode memory budget (decodeMemory).
       */
      decode: <T>(finish: (pipeline: Sharp) => Promise<T>, mode?: DecodeMode) => Promise<T>;
    }
  | { ok: false; format: string | null; width: number | null; height: number | null; reason: string };

/**
 * The common case in one libvips call: a JPEG (never alpha, no BMP path) decoded straight
 * through orient's steps, with sharp's own pixel limit. Skipping the separate header/sniff pass
 * cuts the per-image cost of small images (measured: 2.6 → 1.8 ms CPU for a 32×32 JPEG), which
 * is what extraction pays per image on top of the model. Returns null when the fast path does not
 * apply or fails; the caller then takes the inspected path, which also words the error.
 */
export async function decodeJpegFast<T>(
  source: ImageSource,
  pixelLimit: number,
  finish: (pipeline: Sharp) => Promise<T>,
): Promise<T | null> {
  const h = source.head;
  if (h.length < 3 || h[0] !== 0xff || h[1] !== 0xd8 || h[2] !== 0xff) return null;
  try {
    return await withDecodeMemory(heldBytes(source) + JPEG_FAST_PATH_BYTES, () =>
      gated(() =>
        finish(
          sharp(input(source), { failOn: FAIL_ON, limitInputPixels: pixelLimit })
            .rotate()
            .toColourspace('srgb')
            .removeAlpha(),
        ),
      ),
    );
  } catch {
    return null;
  }
}

/** Everything short of decoding the pixels: format, header, size limit. Never throws for bad input. */
export async function inspectImage(source: ImageSource, pixelLimit: number): Promise<Inspection> {
  const fail = (
    reason: string,
    format: string | null = null,
    width: number | null = null,
    height = width,
  ) => ({
    ok: false as const,
    format,
    width,
    height,
    reason,
  });
  if (source.size === 0) return fail('empty file (0 bytes)');
  const sniffed = await sniffFormat(source.head);
  if (sniffed.kind === 'other') return fail(sniffed.reason);
  if (sniffed.kind === 'unsupported') return fail(sniffed.reason, sniffed.format);
  const { format } = sniffed;

  let width: number;
  let height: number;
  let channels: number;
  let hasAlpha: boolean;
  let decode: Extract<Inspection, { ok: true }>['decode'];
  const held = heldBytes(source);
  if (format === 'bmp') {
    try {
      ({ width, height } = readBmpHeader(source.head));
    } catch (e) {
      return fail(decodeErrorReason(format, e), format);
    }
    channels = 3;
    hasAlpha = false;
    const bytes = held + decodeBytes('full-rgb', width, height, 3);
    decode = (finish) => withDecodeMemory(bytes, () => gated(async () => finish(await openBmp(source))));
  } else {
    // One instance for header and pixels: reading the header first costs almost nothing then.
    // sharp's own pixel limit is off because we check the limit below, from this same header,
    // and can then say how large the image is.
    const load = () => sharp(input(source), { failOn: FAIL_ON, limitInputPixels: false, pages: 1, page: 0 });
    let image = load();
    let meta: Metadata;
    try {
      meta = await gated(
        () => image.metadata(),
        () => (image = load()).metadata(),
      );
    } catch (e) {
      return fail(decodeErrorReason(format, e), format);
    }
    if (meta.width === undefined || meta.height === undefined) {
      return fail(`truncated or corrupt ${FORMAT_LABELS[format]}: no image size in the header`, format);
    }
    if (format === 'heif' && meta.compression === 'hevc') {
      // sharp's prebuilt libheif ships without an HEVC decoder (patent licensing)
      return fail('unsupported image format: HEIC (HEVC-compressed); convert it to JPEG', 'heic');
    }
    const rotated = (meta.orientation ?? 1) >= 5;
    width = rotated ? meta.height : meta.width;
    height = rotated ? meta.width : meta.height;
    channels = meta.channels ?? 3;
    // from the header: nothing is decoded to find out whether there is alpha
    hasAlpha = meta.hasAlpha === true;
    const alpha = hasAlpha;
    const { width: w, height: h } = meta;
    decode = (finish, mode = {}) => {
      const exact = alpha && (mode.exactAlpha ?? true) && w * h <= EXACT_ALPHA_MAX_PIXELS;
      const shape: DecodeShape = exact ? 'full-rgb' : WHOLE_FRAME_FORMATS.has(format) ? 'frame' : 'stream';
      return withDecodeMemory(held + decodeBytes(shape, w, h, channels), () =>
        gated(
          async () => finish(await orient(image, exact)),
          async () => finish(await orient(load(), exact)),
        ),
      );
    };
  }

  if (width * height > pixelLimit) {
    return fail(
      `too large: ${width}×${height} px exceeds the ${formatPixels(pixelLimit)} limit`,
      format,
      width,
      height,
    );
  }
  return { ok: true, format, width, height, channels, hasAlpha, decode };
}

/** A user-facing reason for a decoder failure: "truncated or corrupt PNG: libpng read error". */
export function decodeErrorReason(format: ImageFormat, err: unknown): string {
  if (err instanceof BmpError) return err.message;
  const raw = err instanceof Error ? err.message : String(err);
  const first =
    raw
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0) ?? 'unknown decoder error';
  // sharp prefixes every load failure with "Input … has corrupt header", even for damaged pixel
  // data, and libvips names its loader; both say nothing to a user
  const message = first
    .replace(/^Input (?:buffer|file) has corrupt header:\s*/i, '')
    .replace(/^(?:Vips\w+|vips\w+|\w+load(?:_\w+)?):\s*/, '');
  if (/exceeds pixel limit/i.test(message)) return `too large: ${message}`;
  return `truncated or corrupt ${FORMAT_LABELS[format]}: ${message || first}`;
}

/** "268 MP" (or plain pixels for tiny test limits). */
function formatPixels(n: number): string {
  return n >= 1_000_000 ? `${Math.round(n / 1_000_000)} MP` : `${n} px`;
}

/** Bytes of the file kept in memory while it decodes. */
function heldBytes(source: ImageSource): number {
  return source.bytes?.length ?? 0;
}

function input(source: ImageSource): Buffer | string {
  if (source.bytes) return source.bytes;
  if (source.path) return source.path;
  throw new Error('image source has neither bytes nor a path');
}

async function openBmp(source: ImageSource): Promise<Sharp> {
  const bytes = source.bytes ?? (await fs.promises.readFile(source.path!));
  const { data, width, height, channels } = decodeBmp(bytes);
  return sharp(data, { raw: { width, height, channels }, limitInputPixels: false });
}

/** The pipeline to 3-channel sRGB; `dropAlphaFirst`: drop alpha at full size (see below). */
async function orient(image: Sharp, dropAlphaFirst: boolean): Promise<Sharp> {
  const decoded = image
    .rotate() // EXIF orientation, applied before any resize
    .toColourspace('srgb') // grey, CMYK, 16-bit → 8-bit sRGB
    .removeAlpha();
  if (!dropAlphaFirst) return decoded;
  // Alpha is dropped, like PIL's convert('RGB') in torchvision's default image loader, so our
  // pixels match a Python reference pipeline (a transparent pixel shows its stored colour).
  // sharp would resize with premultiplied alpha and drop it afterwards, turning transparent areas
  // black only when a resize happens; so drop it here, at full size, before any resize. That
  // holds the whole RGB image in memory, so callers do it only up to EXACT_ALPHA_MAX_PIXELS.
  const { data, info } = await decoded.raw().toBuffer({ resolveWithObject: true });
  const raw = { width: info.width, height: info.height, channels: info.channels };
  return sharp(data, { raw, limitInputPixels: false });
}
