import { createHash } from 'node:crypto';
import type { Matrix } from './matrix';

/** sha256 (hex) of a matrix's shape and float32 values: identifies training data in metadata. */
export function matrixHash(m: Matrix): string {
  const h = createHash('sha256');
  h.update(`${m.rows}x${m.cols}:`);
  h.update(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
  return h.digest('hex');
}
