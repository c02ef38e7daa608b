/** sha256 (lowercase hex) of a file's bytes, read as a stream so that large models need little memory. */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { CancelledError } from '../util/errors';
import { fileReadError } from './fileErrors';

export async function sha256File(file: string, opts: { signal?: AbortSignal } = {}): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20, signal: opts.signal })) {
      hash.update(chunk as Buffer);
    }
  } catch (e) {
    if (opts.signal?.aborted) throw new CancelledError('hashing');
    throw fileReadError(file, e);
  }
  return hash.digest('hex');
}
