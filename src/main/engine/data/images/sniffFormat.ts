/**
 * What a file is, from its content (magic bytes via file-type), never from its extension:
 * folders exported from other tools hold PNGs named .jpg, images named .txt, and text named .jpg.
 */
import { fileTypeFromBuffer } from 'file-type';

/** Raster formats we decode (sharp for all but BMP, which bmp.ts reads). */
export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'bmp' | 'avif' | 'heif';

export type Sniffed =
  | { kind: 'image'; format: ImageFormat }
  /** An image, but in a format we cannot decode (JPEG XL, PSD, camera raw, SVG…). */
  | { kind: 'unsupported'; format: string; reason: string }
  | { kind: 'other'; reason: string };

/** Display names used in reasons ("truncated or corrupt JPEG: …"). */
export const FORMAT_LABELS: Record<ImageFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
  bmp: 'BMP',
  avif: 'AVIF',
  heif: 'HEIF',
};

/** file-type extension → our format name. */
const DECODABLE: Record<string, ImageFormat> = {
  jpg: 'jpeg',
  png: 'png',
  apng: 'png', // first frame, like GIF
  webp: 'webp',
  gif: 'gif',
  tif: 'tiff',
  bmp: 'bmp',
  avif: 'avif',
  heic: 'heif',
};

/** How much of a file to look at; magic numbers sit in the first few KiB. */
export const SNIFF_BYTES = 64 * 1024;

/**
 * Magic numbers of the formats we decode, for when file-type gives up: it follows a TIFF's first
 * directory to tell TIFF-based formats (camera raw…) apart, and writers such as libtiff put that
 * directory after the pixels, beyond the first SNIFF_BYTES of a large file.
 */
const SIGNATURES: [ImageFormat, number[]][] = [
  ['tiff', [0x49, 0x49, 0x2a, 0x00]], // II*\0
  ['tiff', [0x4d, 0x4d, 0x00, 0x2a]], // MM\0*
  ['tiff', [0x49, 0x49, 0x2b, 0x00]], // BigTIFF
  ['tiff', [0x4d, 0x4d, 0x00, 0x2b]],
  ['jpeg', [0xff, 0xd8, 0xff]],
  ['png', [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]],
];

/** Classify a file from its first bytes; pass the whole file when it is in memory. */
export async function sniffFormat(head: Uint8Array): Promise<Sniffed> {
  const type = await fileTypeFromBuffer(head);
  const fallback = type ? undefined : SIGNATURES.find(([, sig]) => sig.every((b, i) => head[i] === b));
  if (fallback) return { kind: 'image', format: fallback[0] };
  if (type) {
    const format = DECODABLE[type.ext];
    if (format) return { kind: 'image', format };
    if (type.mime.startsWith('image/')) {
      return {
        kind: 'unsupported',
        format: type.ext,
        reason: `unsupported image format: ${type.ext.toUpperCase()} (${type.mime}); convert it to PNG or JPEG`,
      };
    }
    return { kind: 'other', reason: `not an image (looks like ${type.mime})` };
  }
  if (looksLikeText(head)) {
    // file-type does not detect SVG (it is XML text); sharp could rasterise it, but vector art
    // has no natural pixel size and may reference external files, so we leave it to the user
    if (/<svg[\s>]/i.test(Buffer.from(head.subarray(0, 4096)).toString('latin1'))) {
      return {
        kind: 'unsupported',
        format: 'svg',
        reason: 'unsupported image format: SVG (vector graphics); export it as PNG',
      };
    }
    return { kind: 'other', reason: 'not an image (looks like text/plain)' };
  }
  return { kind: 'other', reason: 'not an image (unrecognised binary data)' };
}

/** UTF-16 with a byte-order mark, or UTF-8 without NUL bytes, in the first 4 KiB. */
function looksLikeText(head: Uint8Array): boolean {
  const sample = head.subarray(0, 4096);
  if (
    sample.length >= 2 &&
    ((sample[0] === 0xff && sample[1] === 0xfe) || (sample[0] === 0xfe && sample[1] === 0xff))
  ) {
    return true;
  }
  if (sample.includes(0)) return false;
  // the sample may end inside a multi-byte character: allow up to 3 bytes to be cut
  for (let cut = 0; cut <= Math.min(3, sample.length); cut++) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, sample.length - cut));
      return true;
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}
