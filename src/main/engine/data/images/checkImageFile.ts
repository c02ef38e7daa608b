/**
 * Check one file of a scanned folder: read and hash it, identify it by content, read its header,
 * enforce the pixel limit, then fully decode it (to a small size, which is cheap: JPEG and WebP
 * shrink while decoding) so that truncated or corrupt files are caught now, not mid-training.
 * Never throws: every failure becomes an 'unreadable' item with a reason.
 */
import { readImageFile, NOT_REGULAR, OUTSIDE_ROOT, type LoadedImageFile } from './imageSource';
import { decodeErrorReason, inspectImage } from './openImage';
import type { ScannedItem } from './types';

/** Decoding to at most this size still reads every byte of the compressed data. */
const CHECK_SIZE = 64;

export async function checkImageFile(
  absPath: string,
  relPath: string,
  pixelLimit: number,
  /** the scan root (real path): a file that resolves outside it is not read */
  root?: string,
): Promise<ScannedItem> {
  const slash = relPath.indexOf('/');
  const base = {
    relPath,
    label: slash < 0 ? '' : relPath.slice(0, slash),
    contentHash: null,
    format: null,
    width: null,
    height: null,
    bytes: 0,
    mtimeMs: 0,
  };
  let loaded: LoadedImageFile;
  try {
    loaded = await readImageFile(absPath, { within: root });
  } catch (e) {
    return { ...base, status: 'unreadable', reason: readErrorReason(e) };
  }
  const { source, sha256, mtimeMs } = loaded;
  const read = { ...base, contentHash: sha256, bytes: source.size, mtimeMs };

  try {
    const info = await inspectImage(source, pixelLimit);
    if (!info.ok) {
      const { format, width, height, reason } = info;
      return { ...read, status: 'unreadable', reason, format, width, height };
    }
    const found = { ...read, format: info.format, width: info.width, height: info.height };
    try {
      // streaming, without the exact full-size alpha drop: this only proves that the file decodes
      const { info: out } = await info.decode(
        (pipeline) =>
          pipeline
            .resize(CHECK_SIZE, CHECK_SIZE, { fit: 'inside', withoutEnlargement: true })
            .raw()
            .toBuffer({ resolveWithObject: true }),
        { exactAlpha: false },
      );
      if (out.channels !== 3) throw new Error(`decoded to ${out.channels} channels instead of 3`);
    } catch (e) {
      return { ...found, status: 'unreadable', reason: decodeErrorReason(info.format, e) };
    }
    return { ...found, status: 'ok', reason: null };
  } catch (e) {
    // a bug or an exotic failure in a library: still one bad file, not a failed scan
    return {
      ...read,
      status: 'unreadable',
      reason: `unexpected error: ${(e as Error).message ?? String(e)}`,
    };
  }
}

/** Reason for a file that could not be opened or read. */
export function readErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
    case 'ENOTDIR':
      return 'file not found (moved or deleted?)';
    case NOT_REGULAR:
      return 'not a regular file (a pipe, socket or device)';
    case OUTSIDE_ROOT:
      return 'links outside the dataset folder; not followed';
    case 'EISDIR':
      return 'is a folder';
    case 'EIO':
      return 'input/output error (failing disk or disconnected drive?)';
    default:
      return `cannot read file: ${(e as Error).message ?? String(e)}`;
  }
}
