/**
 * The .cfdet detector file: one self-checking binary file.
 *
 *   bytes 0–7    magic "CFDET\n\x1a\0"
 *   u32 LE       format version
 *   u32 LE       header length L
 *   L bytes      header: the Detector as JSON; every Float32Array is replaced by {"$f32":[offset,length]}
 *   …            blob: all float32 arrays, little-endian, back to back
 *   32 bytes     sha256 of everything before it (detects truncation and accidental damage)
 *
 * The checksum proves nothing about the content (anyone can recompute it), so a file read back is
 * validated like any input (detectorContentProblem: schema, shapes against D, finite numbers).
 * Written to a temporary file and renamed, so a crash never leaves half a model behind.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { DETECTOR_FORMAT_VERSION, detectorContentProblem, type Detector } from '../detector/types';
import { UserError } from '../util/errors';
import { writeFileAtomic } from '../util/writeFileAtomic';

const MAGIC = Buffer.from('CFDET\n\x1a\0', 'latin1');
const HASH_BYTES = 32;

export function encodeDetector(det: Detector): Buffer {
  const arrays: Float32Array[] = [];
  let offset = 0;
  const header = JSON.stringify(det, (_k, v) => {
    if (v instanceof Float32Array) {
      arrays.push(v);
      const ref = { $f32: [offset, v.length] };
      offset += v.length;
      return ref;
    }
    if (typeof v === 'number' && !Number.isFinite(v)) return { $num: String(v) };
    return v;
  });
  const headerBuf = Buffer.from(header, 'utf8');
  const blob = Buffer.alloc(offset * 4);
  let o = 0;
  for (const a of arrays) {
    for (let i = 0; i < a.length; i++) blob.writeFloatLE(a[i], (o + i) * 4);
    o += a.length;
  }
  const fixed = Buffer.alloc(8);
  fixed.writeUInt32LE(DETECTOR_FORMAT_VERSION, 0);
  fixed.writeUInt32LE(headerBuf.length, 4);
  const body = Buffer.concat([MAGIC, fixed, headerBuf, blob]);
  return Buffer.concat([body, createHash('sha256').update(body).digest()]);
}

export function decodeDetector(buf: Buffer, file: string): Detector {
  const notOurs = (why: string) =>
    new UserError(
      `${file} is not a CF Studio detector file (${why})`,
      'pass a detector file (.cfdet) written by CF Studio',
    );
  if (buf.length < MAGIC.length + 8 + HASH_BYTES || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw notOurs(buf.length === 0 ? 'the file is empty' : 'unknown file signature');
  }
  const version = buf.readUInt32LE(8);
  if (version > DETECTOR_FORMAT_VERSION) {
    throw new UserError(
      `${file} was written by a newer CF Studio (detector format ${version}; this version reads up to ${DETECTOR_FORMAT_VERSION})`,
      'update CF Studio to load it',
    );
  }
  const body = buf.subarray(0, buf.length - HASH_BYTES);
  const stored = buf.subarray(buf.length - HASH_BYTES);
  if (!createHash('sha256').update(body).digest().equals(stored)) {
    throw new UserError(
      `${file} is damaged or was modified: its checksum does not match`,
      'the file was truncated or edited; use the original file or train the detector again',
    );
  }
  const headerLen = buf.readUInt32LE(12);
  const headerStart = MAGIC.length + 8;
  const blobStart = headerStart + headerLen;
  if (blobStart > body.length || (body.length - blobStart) % 4 !== 0)
    throw notOurs('inconsistent header length');
  const blob = body.subarray(blobStart);
  const nFloats = blob.length / 4;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.subarray(headerStart, blobStart).toString('utf8'), (_k, v) => {
      if (v && typeof v === 'object' && Array.isArray(v.$f32)) {
        const [off, len] = v.$f32 as number[];
        if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= nFloats))
          throw new Error('array reference out of range');
        const a = new Float32Array(len);
        for (let i = 0; i < len; i++) a[i] = blob.readFloatLE((off + i) * 4);
        return a;
      }
      if (v && typeof v === 'object' && typeof v.$num === 'string') return Number(v.$num);
      return v;
    });
  } catch (e) {
    throw notOurs(`unreadable header: ${(e as Error).message}`);
  }
  const problem = detectorContentProblem(parsed);
  if (problem !== null)
    throw new UserError(
      `${file} is not a valid CF Studio detector: ${problem}`,
      'use the original detector file, or train the detector again',
    );
  return parsed as Detector;
}

export function saveDetector(det: Detector, file: string): void {
  writeFileAtomic(file, encodeDetector(det));
}

export function loadDetector(file: string): Detector {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code === 'ENOENT'
        ? `model file ${file} not found`
        : `cannot read model file ${file}: ${(e as Error).message}`,
      'check the path',
    );
  }
  return decodeDetector(buf, file);
}
