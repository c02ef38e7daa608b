/**
 * Reads the small top-level fields of an ONNX file (ModelProto) without decoding its graph:
 * ir_version (1), producer_name (2), producer_version (3), domain (4), model_version (5),
 * doc_string (6), opset_import (8, OperatorSetIdProto) and metadata_props (14,
 * StringStringEntryProto key=1 value=2).
 *
 * ONNX Runtime does not expose metadata_props to JavaScript, and decoding a 46 MB model with
 * protobufjs would materialize every weight. Instead the top-level fields are walked with
 * positioned reads: each field's tag and length are parsed with protobufjs's Reader from a small
 * window, wanted fields are read and decoded, and everything else (the graph) is skipped by
 * moving the file offset.
 *
 * The same walk decides whether a file is an ONNX model at all: every field must be well formed
 * up to the end of the file, and ir_version and the graph must be present.
 */
import fs from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';
import { UserError } from '../util/errors';
import { fileReadError } from './fileErrors';

const { onnx } = onnxProto;

export interface OnnxModelInfo {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number | null;
  docString: string;
  /** operator sets the model uses; the default ONNX domain is '' (often shown as 'ai.onnx') */
  opsetImports: { domain: string; version: number }[];
  metadataProps: Record<string, string>;
}

/** wire type of every ModelProto field (onnx.proto3); a known field with another wire type is corrupt */
const WIRE_TYPES: Record<number, number> = {
  1: 0, // ir_version
  2: 2, // producer_name
  3: 2, // producer_version
  4: 2, // domain
  5: 0, // model_version
  6: 2, // doc_string
  7: 2, // graph
  8: 2, // opset_import
  14: 2, // metadata_props
  20: 2, // training_info
  25: 2, // functions
};
/** length-delimited fields whose bytes are read (all others are skipped) */
const READ_FIELDS = new Set([2, 3, 4, 6, 8, 14]);
/** a doc string is only informative: read at most this much of it */
const DOC_STRING_MAX = 64 * 1024;
/** larger than any sane tag+length or varint field: 10 bytes tag, 10 bytes length/value */
const HEADER_WINDOW = 32;

/** The top-level fields of the ONNX model in `file`; UserError if it is missing or not an ONNX model. */
export async function readOnnxModelInfo(file: string): Promise<OnnxModelInfo> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw fileReadError(file, e, 'the model');
  }
  try {
    const stat = await fh.stat();
    if (stat.isDirectory()) throw fileReadError(file, { code: 'EISDIR' }, 'the model');
    return await walk(fh, stat.size, file);
  } finally {
    await fh.close();
  }
}

/** metadata_props of the ONNX model in `file` (an empty object when it has none). */
export async function readOnnxMetadataProps(file: string): Promise<Record<string, string>> {
  return (await readOnnxModelInfo(file)).metadataProps;
}

async function walk(fh: fs.FileHandle, size: number, file: string): Promise<OnnxModelInfo> {
  const bad = (why: string) => notOnnx(file, why);
  if (size === 0) throw bad('the file is empty');
  const info: OnnxModelInfo = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: null,
    docString: '',
    opsetImports: [],
    metadataProps: {},
  };
  let sawIrVersion = false;
  let sawGraph = false;
  const header = Buffer.alloc(HEADER_WINDOW);
  let pos = 0;
  while (pos < size) {
    const { bytesRead } = await fh.read(header, 0, HEADER_WINDOW, pos);
    const reader = protobuf.Reader.create(header.subarray(0, bytesRead));
    let field: number;
    let wireType: number;
    try {
      const tag = reader.uint32();
      field = tag >>> 3;
      wireType = tag & 7;
    } catch {
      throw bad(`unreadable field tag at byte ${pos}`);
    }
    if (field === 0 || wireType === 3 || wireType === 4 || wireType > 5) {
      throw bad(`invalid protobuf field (number ${field}, wire type ${wireType}) at byte ${pos}`);
    }
    const expectedWire = WIRE_TYPES[field];
    if (expectedWire !== undefined && expectedWire !== wireType) {
      throw bad(`field ${field} has wire type ${wireType}, ONNX uses ${expectedWire}`);
    }
    if (wireType !== 2) {
      try {
        if (field === 1 || field === 5) {
          const v = toNumber(reader.int64() as unknown as Int64);
          if (field === 1) {
            info.irVersion = v;
            sawIrVersion = true;
          } else info.modelVersion = v;
        } else reader.skipType(wireType);
      } catch {
        throw bad(`truncated field ${field} at byte ${pos}`);
      }
      pos += reader.pos;
      continue;
    }
    let length: number;
    try {
      length = reader.uint32();
    } catch {
      throw bad(`unreadable length of field ${field} at byte ${pos}`);
    }
    const start = pos + reader.pos;
    if (start + length > size) {
      throw bad(
        `field ${field} at byte ${pos} runs ${start + length - size} bytes past the end (truncated file?)`,
      );
    }
    if (field === 7) sawGraph = true;
    if (READ_FIELDS.has(field)) {
      const n = field === 6 ? Math.min(length, DOC_STRING_MAX) : length;
      const bytes = Buffer.alloc(n);
      await fh.read(bytes, 0, n, start);
      decodeField(info, field, bytes, bad);
    }
    pos = start + length;
  }
  if (!sawIrVersion) throw bad('it has no ir_version field');
  if (!sawGraph) throw bad('it has no graph');
  return info;
}

function decodeField(
  info: OnnxModelInfo,
  field: number,
  bytes: Buffer,
  bad: (why: string) => UserError,
): void {
  const text = () => bytes.toString('utf8');
  switch (field) {
    case 2:
      info.producerName = text();
      return;
    case 3:
      info.producerVersion = text();
      return;
    case 4:
      info.domain = text();
      return;
    case 6:
      info.docString = text();
      return;
    case 8: {
      let op: InstanceType<typeof onnx.OperatorSetIdProto>;
      try {
        op = onnx.OperatorSetIdProto.decode(bytes);
      } catch {
        throw bad('an opset_import entry does not decode');
      }
      // onnx-proto types int64 as protobufjs's Long, which is not resolvable here
      info.opsetImports.push({ domain: op.domain ?? '', version: toNumber(op.version as unknown as Int64) });
      return;
    }
    case 14: {
      let kv: InstanceType<typeof onnx.StringStringEntryProto>;
      try {
        kv = onnx.StringStringEntryProto.decode(bytes);
      } catch {
        throw bad('a metadata_props entry does not decode');
      }
      info.metadataProps[kv.key ?? ''] = kv.value ?? '';
      return;
    }
  }
}

/** protobufjs returns int64 as a Long when long.js is installed, else as a number */
type Int64 = number | { toNumber(): number } | null | undefined;

function toNumber(v: Int64): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

function notOnnx(file: string, why: string): UserError {
  return new UserError(
    `"${file}" is not an ONNX model (${why})`,
    'Choose the .onnx file exported from your network (e.g. torch.onnx.export). If the file was ' +
      'downloaded or copied, it may be incomplete: fetch it again and compare its size and sha256.',
  );
}
