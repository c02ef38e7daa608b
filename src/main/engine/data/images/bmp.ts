/**
 * A small BMP (Windows bitmap) reader. sharp's prebuilt libvips has no BMP loader (it would need
 * ImageMagick), and the npm BMP decoders we checked mishandle common files (top-down rows, the
 * pixel-data offset, palettes or RLE), so we read the uncompressed variants ourselves:
 * 24- and 32-bit (BI_RGB and BI_BITFIELDS), 16-bit (5-5-5 or bit fields) and 1/4/8-bit palettes,
 * bottom-up or top-down. RLE, embedded JPEG/PNG and OS/2 v2 bitmaps are rejected with a reason.
 * Output is always 3-channel RGB: alpha is dropped, as everywhere in image decoding (see decodeImage).
 */

/** A BMP that cannot be read; `message` is a user-facing reason (no file name: the caller adds it). */
export class BmpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BmpError';
  }
}

export interface BmpHeader {
  width: number;
  height: number;
  bitsPerPixel: number;
  /** Rows stored top row first (negative height in the file); normally bottom row first. */
  topDown: boolean;
  /** Where the pixel rows start (bfOffBits). */
  dataOffset: number;
  /** Bytes per stored row, including the padding to a multiple of 4. */
  stride: number;
  /** RGB palette for ≤8-bit images. */
  palette: Uint8Array | null;
  /** Channel bit masks (red, green, blue) for 16- and 32-bit images. */
  masks: [number, number, number] | null;
}

const BI_RGB = 0;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;
const COMPRESSION_NAMES: Record<number, string> = { 1: 'RLE8', 2: 'RLE4', 4: 'JPEG', 5: 'PNG' };
/** BITMAPCOREHEADER (OS/2 1.x) and the Windows BITMAPINFOHEADER family (v1..v5). */
const KNOWN_HEADER_SIZES = new Set([12, 40, 52, 56, 108, 124]);

/** Parse and validate the headers; only the first ~1 KiB (plus palette) of the file is needed. */
export function readBmpHeader(bytes: Uint8Array): BmpHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) {
    throw new BmpError('truncated or corrupt BMP: header is incomplete');
  }
  const dataOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (!KNOWN_HEADER_SIZES.has(headerSize)) {
    throw new BmpError(`unsupported BMP variant (${headerSize}-byte info header); re-save it as PNG`);
  }
  if (bytes.length < 14 + headerSize) throw new BmpError('truncated or corrupt BMP: header is incomplete');

  const core = headerSize === 12;
  const width = core ? view.getUint16(18, true) : view.getInt32(18, true);
  const rawHeight = core ? view.getInt16(20, true) : view.getInt32(22, true);
  const bitsPerPixel = view.getUint16(core ? 24 : 28, true);
  const compression = core ? BI_RGB : view.getUint32(30, true);
  const height = Math.abs(rawHeight);
  if (dataOffset < 14 + headerSize) {
    throw new BmpError('truncated or corrupt BMP: the pixel data offset points into the header');
  }
  if (width <= 0 || height === 0) {
    throw new BmpError(`truncated or corrupt BMP: invalid size ${width}×${rawHeight}`);
  }
  if (compression in COMPRESSION_NAMES) {
    throw new BmpError(
      `unsupported BMP variant (${COMPRESSION_NAMES[compression]} compression); re-save it as PNG or uncompressed BMP`,
    );
  }
  const bitfields = compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (compression !== BI_RGB && !bitfields) {
    throw new BmpError(`unsupported BMP variant (compression type ${compression}); re-save it as PNG`);
  }
  if (
    ![1, 4, 8, 16, 24, 32].includes(bitsPerPixel) ||
    (bitfields && bitsPerPixel !== 16 && bitsPerPixel !== 32)
  ) {
    throw new BmpError(`unsupported BMP variant (${bitsPerPixel} bits per pixel); re-save it as PNG`);
  }

  let masks: BmpHeader['masks'] = null;
  if (bitfields) {
    // v1 headers keep the masks just after the 40-byte header; v2+ headers hold them inside
    if (bytes.length < 14 + 40 + 12) throw new BmpError('truncated or corrupt BMP: header is incomplete');
    masks = [view.getUint32(54, true), view.getUint32(58, true), view.getUint32(62, true)];
    if (masks.some((m) => m === 0)) throw new BmpError('truncated or corrupt BMP: a colour mask is empty');
  } else if (bitsPerPixel === 32) {
    masks = [0x00ff0000, 0x0000ff00, 0x000000ff];
  } else if (bitsPerPixel === 16) {
    masks = [0x7c00, 0x03e0, 0x001f];
  }

  let palette: Uint8Array | null = null;
  if (bitsPerPixel <= 8) {
    const entrySize = core ? 3 : 4;
    const used = core ? 0 : view.getUint32(46, true);
    const count = used > 0 && used <= 1 << bitsPerPixel ? used : 1 << bitsPerPixel;
    const start = 14 + headerSize;
    // files in the wild often declare more entries than fit before the pixels; take what is there
    const available = Math.min(count, Math.floor((Math.min(dataOffset, bytes.length) - start) / entrySize));
    if (available <= 0) throw new BmpError('truncated or corrupt BMP: the colour palette is missing');
    palette = new Uint8Array(256 * 3); // indices past the palette read as black, like browsers do
    for (let i = 0; i < available; i++) {
      const o = start + i * entrySize;
      palette[i * 3] = bytes[o + 2];
      palette[i * 3 + 1] = bytes[o + 1];
      palette[i * 3 + 2] = bytes[o];
    }
  }

  const stride = Math.ceil((width * bitsPerPixel) / 32) * 4;
  return { width, height, bitsPerPixel, topDown: rawHeight < 0, dataOffset, stride, palette, masks };
}

/** Decode a whole BMP file to packed RGB (row-major, top row first). */
export function decodeBmp(
  bytes: Uint8Array,
  header: BmpHeader = readBmpHeader(bytes),
): { data: Buffer; width: number; height: number; channels: 3 } {
  const { width, height, bitsPerPixel, topDown, dataOffset, stride, palette, masks } = header;
  const needed = dataOffset + stride * height;
  if (needed > bytes.length) {
    // the last row may legally omit its padding; anything shorter is a cut-off file
    const lastRowBytes = Math.ceil((width * bitsPerPixel) / 8);
    if (dataOffset + stride * (height - 1) + lastRowBytes > bytes.length) {
      throw new BmpError(
        `truncated or corrupt BMP: pixel data ends early (file has ${bytes.length} bytes, needs ${needed})`,
      );
    }
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = Buffer.allocUnsafe(width * height * 3);
  const unpack = masks ? masks.map(maskUnpacker) : null;
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    let o = y * width * 3;
    for (let x = 0; x < width; x++, o += 3) {
      if (bitsPerPixel === 24) {
        const p = row + x * 3;
        out[o] = bytes[p + 2];
        out[o + 1] = bytes[p + 1];
        out[o + 2] = bytes[p];
      } else if (unpack) {
        const v = bitsPerPixel === 32 ? view.getUint32(row + x * 4, true) : view.getUint16(row + x * 2, true);
        out[o] = unpack[0](v);
        out[o + 1] = unpack[1](v);
        out[o + 2] = unpack[2](v);
      } else {
        const bit = x * bitsPerPixel;
        const byte = bytes[row + (bit >> 3)];
        const index = (byte >> (8 - bitsPerPixel - (bit & 7))) & ((1 << bitsPerPixel) - 1);
        out[o] = palette![index * 3];
        out[o + 1] = palette![index * 3 + 1];
        out[o + 2] = palette![index * 3 + 2];
      }
    }
  }
  return { data: out, width, height, channels: 3 };
}

/** A function taking a packed pixel to one 8-bit channel, for a contiguous bit mask. */
function maskUnpacker(mask: number): (v: number) => number {
  const m = mask >>> 0;
  let shift = 0;
  while (((m >>> shift) & 1) === 0) shift++;
  let bits = 0;
  while (((m >>> (shift + bits)) & 1) === 1 && bits < 32) bits++;
  const max = 2 ** bits - 1;
  if (bits === 8) return (v) => (v >>> shift) & 0xff;
  return (v) => Math.round((((v & m) >>> shift) * 255) / max);
}
