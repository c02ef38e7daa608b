/**
 * Feature vectors as BLOBs: little-endian float32, whatever the host, so a workspace file moves between
 * machines. Reads copy into a fresh Float32Array because SQLite's Buffers may sit at unaligned offsets.
 */
import os from 'node:os';

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

export function vectorToBlob(v: Float32Array): Buffer {
  if (LITTLE_ENDIAN_HOST) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const out = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) out.writeFloatLE(v[i], i * 4);
  return out;
}

/** Copy `blob` into `out` starting at element `offset` (out must have room for blob.length / 4 floats). */
export function blobInto(blob: Uint8Array, out: Float32Array, offset = 0): void {
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer, out.byteOffset + offset * 4, blob.byteLength).set(blob);
    return;
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  for (let i = 0; i < blob.byteLength / 4; i++) out[offset + i] = view.getFloat32(i * 4, true);
}

export function blobToVector(blob: Uint8Array): Float32Array {
  const out = new Float32Array(blob.byteLength / 4);
  blobInto(blob, out);
  return out;
}
