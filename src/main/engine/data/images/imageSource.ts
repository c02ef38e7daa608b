/**
 * The bytes of one image file, read once: hashed (sha256 of exactly what gets decoded) and kept in
 * memory for the decoder, except for very large files, which are hashed as a stream and decoded
 * from their path so a folder of huge TIFFs cannot exhaust memory (`sameContent` then tells
 * whether the file still has the hashed bytes after decoding).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { SNIFF_BYTES } from './sniffFormat';
import { isInside } from './walkFolder';

/**
 * Files up to this size are read into memory; bigger ones are streamed. Each parallel decode may
 * hold one such buffer before it is admitted to the decode memory budget, so this bounds that too.
 */
export const IN_MEMORY_MAX_BYTES = 64 * 1024 * 1024;

export interface ImageSource {
  /** For messages: the path as the caller gave it, or a description of an in-memory buffer. */
  name: string;
  /** The whole file, or null when it is too large to hold (then `path` is set). */
  bytes: Buffer | null;
  path: string | null;
  /** The first bytes (the whole file when in memory), for format sniffing and BMP headers. */
  head: Buffer;
  size: number;
}

export interface LoadedImageFile {
  source: ImageSource;
  /** sha256 hex of the file bytes; null when not asked for. */
  sha256: string | null;
  mtimeMs: number;
}

/** Thrown (as a Node-style error with this code) when the path is a FIFO, socket or device. */
export const NOT_REGULAR = 'ENOTREGULAR';
/** Thrown (as a Node-style error with this code) when the file's real path is outside `within`. */
export const OUTSIDE_ROOT = 'EOUTSIDEROOT';

/** An in-memory image (e.g. from a drag-and-drop or a network response). */
export function bufferSource(bytes: Buffer, name = 'in-memory image'): ImageSource {
  return { name, bytes, path: null, head: bytes, size: bytes.length };
}

export interface ReadImageOptions {
  /** sha256 the bytes (default true) */
  hash?: boolean;
  /** refuse (code OUTSIDE_ROOT) a file whose real path, links resolved, is not inside this folder */
  within?: string;
}

/**
 * Read a file for decoding. Throws the fs error (EACCES, ENOENT, …) or an error with code
 * NOT_REGULAR or OUTSIDE_ROOT; the callers turn codes into reasons.
 */
export async function readImageFile(
  file: string,
  { hash = true, within }: ReadImageOptions = {},
): Promise<LoadedImageFile> {
  let open = file;
  if (within !== undefined) {
    // open the resolved path, so the file checked is the file read
    open = await fs.promises.realpath(file);
    if (!isInside(within, open)) {
      throw Object.assign(new Error(`${file} links outside ${within}`), { code: OUTSIDE_ROOT });
    }
  }
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
  const handle = await fs.promises.open(open, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw Object.assign(new Error(`${file} is not a regular file`), { code: NOT_REGULAR });
    }
    if (stat.size <= IN_MEMORY_MAX_BYTES) {
      const bytes = await handle.readFile();
      const sha256 = hash ? createHash('sha256').update(bytes).digest('hex') : null;
      const source = { name: file, bytes, path: file, head: bytes, size: bytes.length };
      return { source, sha256, mtimeMs: stat.mtimeMs };
    }
    const head = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(head, 0, SNIFF_BYTES, 0);
    const source = {
      name: file,
      bytes: null,
      path: open,
      head: head.subarray(0, bytesRead),
      size: stat.size,
    };
    if (!hash) return { source, sha256: null, mtimeMs: stat.mtimeMs };
    const hasher = createHash('sha256');
    for await (const chunk of handle.createReadStream({ start: 0, autoClose: false })) hasher.update(chunk);
    return { source, sha256: hasher.digest('hex'), mtimeMs: stat.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** sha256 hex of a file's current bytes, streamed (for sources decoded from their path). */
export async function hashFile(file: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}
