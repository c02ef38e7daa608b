/**
 * NumPy .npy files (format versions 1.0, 2.0 and 3.0): a little-endian, C-order 2-D array of
 * '<f4', '<f8', '<i4' or '<i8' becomes a float32 Matrix (rows = samples, columns = features).
 * Everything else (1-D or 3-D arrays, Fortran order, big-endian, other dtypes, truncated
 * files) is a UserError that names the file and says how to re-save it from NumPy.
 */
import os from 'node:os';
import { Matrix } from '../util/matrix';
import { UserError } from '../util/errors';
import { checkFeatureColumns } from './featureLimit';
import { writeFileAtomic } from '../util/writeFileAtomic';
import { readInputFile } from './read-file';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

const DTYPES: Record<string, { size: number; label: string }> = {
  '<f4': { size: 4, label: 'float32' },
  '<f8': { size: 8, label: 'float64' },
  '<i4': { size: 4, label: 'int32' },
  '<i8': { size: 8, label: 'int64' },
};

const RESAVE = "np.save(path, np.ascontiguousarray(x, dtype='<f4'))";

/** Read a .npy file from disk as a float32 Matrix. */
export function readNpy(file: string): Matrix {
  return parseNpy(readInputFile(file), file);
}

/** Parse the bytes of a .npy file; `name` is used in error messages. */
export function parseNpy(buf: Buffer, name: string): Matrix {
  if (buf.length === 0) {
    throw new UserError(`"${name}" is empty (0 bytes)`, `Save the array again from Python with ${RESAVE}.`);
  }
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    const isZip = buf.length >= 2 && buf[0] === 0x50 && buf[1] === 0x4b;
    throw new UserError(
      `"${name}" is not a NumPy .npy file (it does not start with the \\x93NUMPY signature)`,
      isZip
        ? 'This looks like a .npz archive: load it with np.load(path)["<array name>"] and save that one array with np.save.'
        : `Save the array with ${RESAVE}, or use a CSV file with a header row.`,
    );
  }
  const major = buf[6];
  const minor = buf[7];
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerStart = 10;
    headerLen = buf.readUInt16LE(8);
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw truncatedHeader(name);
    headerStart = 12;
    headerLen = buf.readUInt32LE(8);
  } else {
    throw new UserError(
      `"${name}" uses .npy format version ${major}.${minor}, which is not supported (only 1.0, 2.0, 3.0)`,
      `Save it again with a current NumPy: ${RESAVE}.`,
    );
  }
  const dataStart = headerStart + headerLen;
  if (buf.length < dataStart) throw truncatedHeader(name);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', headerStart, dataStart);

  // --- dtype ---
  const descrMatch = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(header);
  if (!descrMatch) {
    const structured = /['"]descr['"]\s*:\s*\[/.test(header);
    throw new UserError(
      structured
        ? `"${name}" holds a structured (record) array; only plain numeric arrays are supported`
        : `"${name}" has a malformed .npy header (no 'descr' entry): ${shown(header)}`,
      structured
        ? `Convert the fields to one float matrix first, e.g. np.save(path, structured_to_unstructured(x).astype('<f4')).`
        : `Save the array again with ${RESAVE}.`,
    );
  }
  const descr = descrMatch[2];
  if (descr.startsWith('>')) {
    throw new UserError(
      `"${name}" stores big-endian data (dtype '${shown(descr)}'); only little-endian is supported`,
      `Convert before saving: np.save(path, x.astype('<f4')).`,
    );
  }
  const dtype = DTYPES[descr.replace(/^=/, '<')];
  if (!dtype) {
    throw new UserError(
      `"${name}" has dtype '${shown(descr)}'; supported dtypes are float32 ('<f4'), float64 ('<f8'), int32 ('<i4') and int64 ('<i8')`,
      `Convert before saving: np.save(path, x.astype('<f4')).`,
    );
  }

  // --- memory order ---
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  if (!fortran) {
    throw new UserError(
      `"${name}" has a malformed .npy header (no 'fortran_order' entry): ${shown(header)}`,
      `Save the array again with ${RESAVE}.`,
    );
  }
  if (fortran[1] === 'True') {
    throw new UserError(
      `"${name}" stores its array in Fortran (column-major) order; only C (row-major) order is supported`,
      `Save a C-ordered copy: ${RESAVE}.`,
    );
  }

  // --- shape ---
  const shapeMatch = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!shapeMatch) {
    throw new UserError(
      `"${name}" has a malformed .npy header (no 'shape' entry): ${shown(header)}`,
      `Save the array again with ${RESAVE}.`,
    );
  }
  const shape = shapeMatch[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0)
    .map((s) => Number(s));
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new UserError(
      `"${name}" has an invalid shape in its header: (${shown(shapeMatch[1])})`,
      `Save the array again with ${RESAVE}.`,
    );
  }
  const shapeText = `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;
  if (shape.length === 0) {
    throw new UserError(
      `"${name}" holds a single scalar (shape ()); a 2-D array (samples × features) is needed`,
      'Save a 2-D array with one row per sample and one column per feature.',
    );
  }
  if (shape.length === 1) {
    throw new UserError(
      `"${name}" holds a 1-D array of shape ${shapeText}; a 2-D array (samples × features) is needed`,
      `Reshape before saving: x.reshape(-1, 1) if each value is one sample with one feature, or x.reshape(1, -1) if it is one sample.`,
    );
  }
  if (shape.length > 2) {
    throw new UserError(
      `"${name}" holds a ${shape.length}-D array of shape ${shapeText}; a 2-D array (samples × features) is needed`,
      'Flatten every sample to one row before saving: np.save(path, x.reshape(len(x), -1)).',
    );
  }
  const [rows, cols] = shape;
  checkFeatureColumns(cols, `"${name}"`);

  // --- data ---
  const expected = rows * cols * dtype.size;
  const got = buf.length - dataStart;
  if (got < expected) {
    const completeRows = cols > 0 ? Math.floor(got / (cols * dtype.size)) : 0;
    throw new UserError(
      `"${name}" is truncated: its header declares shape ${shapeText} of ${dtype.label} = ${expected} data bytes, ` +
        `but only ${got} bytes follow (${completeRows} of ${rows} rows complete)`,
      'The file was cut off (interrupted copy, download or save?). Copy or save it again.',
    );
  }
  if (got > expected) {
    throw new UserError(
      `"${name}" has ${got - expected} bytes more than its header declares (shape ${shapeText} of ${dtype.label} = ${expected} bytes)`,
      `The file may be corrupt or not written by np.save; save it again with ${RESAVE}.`,
    );
  }

  const out = new Float32Array(rows * cols);
  const view = new DataView(buf.buffer, buf.byteOffset + dataStart, expected);
  const n = rows * cols;
  switch (descr.replace(/^=/, '<')) {
    case '<f4':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case '<f8':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case '<i4':
      for (let i = 0; i < n; i++) out[i] = view.getInt32(i * 4, true);
      break;
    case '<i8':
      for (let i = 0; i < n; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      break;
  }
  return { rows, cols, data: out };
}

/** A header as shown in a message: trimmed, at most 200 characters, control characters escaped. */
function shown(header: string): string {
  const t = header.trim();
  const cut = t.length > 200 ? `${t.slice(0, 200)}…` : t;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

function truncatedHeader(name: string): UserError {
  return new UserError(
    `"${name}" is truncated: the file ends inside its .npy header`,
    'The file was cut off (interrupted copy, download or save?). Copy or save it again.',
  );
}

/** The bytes of a .npy (format 1.0, '<f4', C order) file holding `m`. */
export function encodeNpy(m: Matrix): Buffer {
  let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.cols}), }`;
  // pad so that magic (6) + version (2) + length (2) + header is a multiple of 64, ending in '\n'
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  dict = dict.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(dict.length, 8);
  let body: Buffer;
  if (os.endianness() === 'LE') {
    body = Buffer.from(m.data.buffer, m.data.byteOffset, m.rows * m.cols * 4);
  } else {
    body = Buffer.alloc(m.rows * m.cols * 4);
    for (let i = 0; i < m.rows * m.cols; i++) body.writeFloatLE(m.data[i], i * 4);
  }
  return Buffer.concat([head, Buffer.from(dict, 'latin1'), body]);
}

/** Write `m` as a float32 ('<f4'), C-order .npy file (format 1.0), atomically (see writeFileAtomic). */
export function writeNpy(file: string, m: Matrix): void {
  if (m.data.length !== m.rows * m.cols) {
    throw new Error(`writeNpy: matrix has ${m.data.length} values, expected ${m.rows}×${m.cols}`);
  }
  writeFileAtomic(file, encodeNpy(m));
}
