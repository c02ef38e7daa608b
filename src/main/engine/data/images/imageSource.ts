/**
 * The bytes of one image file, read once: hashed (sha256 of exactly what gets decoded) and kept in
 * memory for the decoder, except for very large files, which are hashed as a stream and decoded
 * from their path so a folder of huge TIFFs cannot exhaust memory.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { SNIFF_BYTES } from './sniffFormat';

/** Files up to this size are read into memory; bigger ones are streamed. */
export const IN_MEMORY_MAX_BYTES = 256 * 1024 * 1024;

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

/** An in-memory image (e.g. from a drag-and-drop or a network response). */
export function bufferSource(bytes: Buffer, name = 'in-memory image'): ImageSource {
  return { name, bytes, path: null, head: bytes, size: bytes.length };
}

/**
 * Read a file for decoding. Throws the fs error (EACCES, ENOENT, …) or an error with code
 * NOT_REGULAR; the callers turn codes into reasons.
 */
export async function readImageFile(file: string, { hash = true } = {}): Promise<LoadedImageFile> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever
  const handle = await fs.promises.open(file, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
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
      path: file,
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
