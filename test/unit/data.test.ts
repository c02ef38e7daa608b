import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/main/engine/util/errors';
import { Rng } from '../../src/main/engine/util/rng';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { encodeNpy, parseNpy, readNpy, writeNpy } from '../../src/main/engine/data/npy';
import { readCsvTable, sniffDelimiter } from '../../src/main/engine/data/csv';
import { checkSameColumns, loadTable, requireRows } from '../../src/main/engine/data/table';
import { applyStandardizer, fitStandardizer } from '../../src/main/engine/data/standardize';
import { l2Normalize } from '../../src/main/engine/data/normalize';
import { holdOut, tabularProtocolSplit } from '../../src/main/engine/data/split';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

/** Run fn, assert it throws a UserError whose message contains every `parts` and that has a hint. */
function userError(fn: () => unknown, parts: (string | RegExp)[], hint?: RegExp): UserError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a UserError to be thrown').toBeInstanceOf(UserError);
  const ue = err as UserError;
  for (const p of parts) {
    if (typeof p === 'string') expect(ue.message).toContain(p);
    else expect(ue.message).toMatch(p);
  }
  expect(ue.hint, `no hint for: ${ue.message}`).toBeTruthy();
  if (hint) expect(ue.hint).toMatch(hint);
  return ue;
}

/** A hand-built .npy with an arbitrary header dict and payload. */
function npyBytes(dict: string, payload: Buffer, version = 1): Buffer {
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  const h = dict.padEnd(total - pre - 1, ' ') + '\n';
  const head = Buffer.alloc(pre);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]).copy(head);
  head[6] = version;
  if (version === 1) head.writeUInt16LE(h.length, 8);
  else head.writeUInt32LE(h.length, 8);
  return Buffer.concat([head, Buffer.from(h, 'latin1'), payload]);
}

function f64(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => b.writeDoubleLE(v, i * 8));
  return b;
}

const THYROID = '/work/shared/data/tabular/thyroid.csv';

describe('files', () => {
  it('file not found names the file and says to check the path', () => {
    const missing = path.join(dir, 'nope.csv');
    userError(() => loadTable(missing), [missing, 'not found'], /path|spelling|folder/i);
    userError(() => readNpy(path.join(dir, 'nope.npy')), ['nope.npy', 'not found']);
  });

  it('a folder is not a file', () => {
    userError(() => loadTable(dir), [dir, 'folder']);
  });

  it('unsupported extension', () => {
    const p = file('data.xlsx', 'x');
    userError(() => loadTable(p), ['data.xlsx', '.xlsx'], /\.csv/);
  });
});

describe('CSV tables', () => {
  it('reads a small table with a label column', () => {
    const p = file('ok.csv', 'f0,label,f1\n1,0,2\n3.5,1,-4e-1\n');
    const t = loadTable(p, { labelColumn: 'label' });
    expect(t.columns).toEqual(['f0', 'f1']);
    expect(t.x.rows).toBe(2);
    expect(Array.from(t.x.data)).toEqual([1, 2, 3.5, Math.fround(-0.4)]);
    expect(Array.from(t.labels!)).toEqual([0, 1]);
    expect(t.labelColumn).toBe('label');
    expect(t.source).toBe(p);
  });

  it('without a label column every column is a feature', () => {
    const t = loadTable(file('nolabel.csv', 'a,b\n1,2\n3,4\n'));
    expect(t.columns).toEqual(['a', 'b']);
    expect(t.labels).toBeNull();
    expect(t.labelColumn).toBeNull();
  });

  it('sniffs ; and tab delimiters, handles BOM, CRLF and blank lines', () => {
    expect(sniffDelimiter('a;b;c\n1;2;3')).toBe(';');
    expect(sniffDelimiter('a\tb\n1\t2')).toBe('\t');
    expect(sniffDelimiter('"x;y",b\n1,2')).toBe(',');
    const semi = loadTable(file('semi.csv', '\uFEFFa;b\r\n1;2\r\n\r\n3;4\r\n'));
    expect(semi.columns).toEqual(['a', 'b']);
    expect(Array.from(semi.x.data)).toEqual([1, 2, 3, 4]);
    const tsv = loadTable(file('t.tsv', 'a\tb\n1\t2\n'));
    expect(tsv.columns).toEqual(['a', 'b']);
    const txt = loadTable(file('t.txt', 'a\tb\n1\t2\n'));
    expect(txt.x.cols).toBe(2);
  });

  it('empty file (0 bytes)', () => {
    const p = file('empty.csv', '');
    userError(() => loadTable(p), [p, 'empty', '0 bytes'], /header/i);
  });

  it('blank-only file', () => {
    const p = file('blank.csv', '\n  \n');
    userError(() => loadTable(p), [p, 'blank'], /header/i);
  });

  it('header-only file', () => {
    const p = file('header.csv', 'f0,f1,label\n');
    userError(() => loadTable(p, { labelColumn: 'label' }), [p, 'no data rows', 'line 1'], /row/i);
  });

  it('missing header row (first line is numbers)', () => {
    const p = file('noheader.csv', '1,2,3\n4,5,6\n');
    userError(() => loadTable(p), [p, 'line 1', 'header'], /f0,f1,f2/);
  });

  it('non-numeric cell names file, line and column', () => {
    const p = file('abc.csv', 'f0,f1,label\n1,2,0\n3,abc,0\n');
    const e = userError(
      () => loadTable(p, { labelColumn: 'label' }),
      [p, 'line 3', 'column "f1"', '"abc"', 'not a number'],
      /numeric/,
    );
    expect(e.message).not.toContain('label"');
  });

  it('line numbers count the header as line 1 and include blank lines', () => {
    const p = file('blanklines.csv', 'a,b\n1,2\n\n3,x\n');
    userError(() => loadTable(p), ['line 4', 'column "b"']);
  });

  it.each([
    ['NaN', /"NaN" is a missing value/, /missing/i],
    ['', /empty cell/, /missing/i],
    ['NA', /"NA" is a missing value/, /missing/i],
    ['inf', /"inf" is infinite/, /infinite/i],
    ['-Infinity', /"-Infinity" is infinite/, /infinite/i],
    ['1e999', /too large/, /Rescale/],
  ])('rejects cell %j with a specific message', (cell, msg, hint) => {
    const p = file(`bad-${cell || 'empty'}.csv`, `f0,f1\n1,2\n3,4\n5,${cell}\n`);
    userError(() => loadTable(p), [p, 'line 4', 'column "f1"', msg], hint);
  });

  it('decimal comma and thousands separators get a targeted hint', () => {
    const p = file('comma.csv', 'a;b\n1;2,5\n');
    userError(() => loadTable(p), ['line 2', 'column "b"'], /decimal separator/);
    const q = file('thousands.csv', 'a\tb\n1\t1,234,567\n');
    userError(() => loadTable(q), ['line 2', 'column "b"'], /thousands/);
  });

  it('ragged rows: too few and too many cells', () => {
    const p = file('ragged.csv', 'f0,f1,f2\n1,2,3\n4,5\n');
    userError(
      () => loadTable(p),
      [p, 'line 3', '2 cells', 'header (line 1) has 3 columns'],
      /one value per column/,
    );
    const q = file('ragged2.csv', 'f0,f1\n1,2\n3,4\n5,6,7\n');
    userError(() => loadTable(q), [q, 'line 4', '3 cells']);
    const r = file('trailing.csv', 'f0,f1\n1,2,\n');
    userError(() => loadTable(r), [r, 'line 2'], /trailing/);
  });

  it('unclosed quote', () => {
    const p = file('quote.csv', 'a,b\n1,2\n"3,4\n5,6\n');
    userError(() => loadTable(p), [p, 'line'], /quote/i);
  });

  it('header problems: empty and duplicate names', () => {
    const p = file('emptyname.csv', 'a,,c\n1,2,3\n');
    userError(() => loadTable(p), [p, 'line 1', 'column 2', 'empty column name']);
    const q = file('dup.csv', 'a,b,a\n1,2,3\n');
    userError(() => loadTable(q), [q, '"a"', 'twice'], /distinct/);
  });

  it('label column named but missing lists the available columns', () => {
    const p = file('nolabelcol.csv', 'f0,f1,Label\n1,2,0\n3,4,1\n');
    userError(
      () => loadTable(p, { labelColumn: 'target' }),
      [p, '"target"', 'available columns', '"f0"', '"f1"', '"Label"'],
    );
    userError(() => loadTable(p, { labelColumn: 'label' }), ['"label"'], /did you mean "Label"/);
  });

  it('labels must be 0 or 1', () => {
    const p = file('labels.csv', 'f0,y\n1,0\n2,-1\n');
    userError(
      () => loadTable(p, { labelColumn: 'y' }),
      [p, 'line 3', 'column "y"', '"-1"'],
      /0 \(normal\) or 1 \(anomaly\)/,
    );
    const q = file('labels2.csv', 'f0,y\n1,0\n2,yes\n');
    userError(() => loadTable(q, { labelColumn: 'y' }), [q, 'line 3', 'column "y"', 'yes']);
  });

  it('only a label column means no features', () => {
    const p = file('onlylabel.csv', 'label\n0\n1\n');
    userError(() => loadTable(p, { labelColumn: 'label' }), [p, 'no feature columns']);
  });

  it('requireLabel without a label column', () => {
    const p = file('req.csv', 'a,b\n1,2\n3,4\n');
    userError(() => loadTable(p, { requireLabel: true }), [p, 'label'], /label/);
  });

  it('a zip (xlsx) file renamed to .csv', () => {
    const p = file('sheet.csv', Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0]));
    userError(() => loadTable(p), [p, 'zip'], /CSV/);
  });

  it('readCsvTable accepts an explicit delimiter', () => {
    const t = readCsvTable(file('explicit.txt', 'a;b\n1;2\n'), { delimiter: ';' });
    expect(t.columns).toEqual(['a', 'b']);
  });

  it.skipIf(!fs.existsSync(THYROID))(
    `reads the real thyroid benchmark (${THYROID}; skipped when /work/shared/data is missing)`,
    () => {
      const t = loadTable(THYROID, { labelColumn: 'label', requireLabel: true });
      expect(t.x.rows).toBe(3772);
      expect(t.x.cols).toBe(6);
      expect(t.columns).toEqual(['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
      let anomalies = 0;
      for (const l of t.labels!) anomalies += l;
      expect(anomalies).toBe(93);
      const split = tabularProtocolSplit(t.labels!, 0.6, 1, t.source);
      expect(split.train.length).toBe(Math.round(0.6 * (3772 - 93)));
      expect(split.testIdx.length).toBe(3772 - split.train.length);
    },
  );
});

describe('requireRows', () => {
  it('one data row is not enough to train', () => {
    const p = file('onerow.csv', 'a,b\n1,2\n');
    const t = loadTable(p);
    userError(() => requireRows(t, 2, 'train'), [p, '1 data row', 'at least 2 rows to train'], /more rows/);
    expect(() => requireRows(t, 1, 'score')).not.toThrow();
  });
});

describe('checkSameColumns', () => {
  const train = () =>
    loadTable(file('train.csv', 'f0,f1,f2,label\n1,2,3,0\n4,5,6,1\n'), { labelColumn: 'label' });

  it('accepts the same columns (label column may differ)', () => {
    const score = loadTable(file('score-ok.csv', 'f0,f1,f2\n1,2,3\n'));
    expect(() => checkSameColumns(train(), score)).not.toThrow();
  });

  it('different column count lists missing and extra columns', () => {
    const score = loadTable(file('score-few.csv', 'f0,f2\n1,3\n'));
    userError(
      () => checkSameColumns(train(), score),
      ['score-few.csv', '2 feature columns', 'train.csv', 'has 3', 'missing: "f1"'],
      /same feature columns/,
    );
  });

  it('the label column read as a feature gets a specific hint', () => {
    const score = loadTable(file('score-label.csv', 'f0,f1,f2,label\n1,2,3,0\n'));
    userError(() => checkSameColumns(train(), score), ['4 feature columns', '"label"'], /label column/);
  });

  it('different names or order', () => {
    const renamed = loadTable(file('score-renamed.csv', 'f0,g1,f2\n1,2,3\n'));
    userError(
      () => checkSameColumns(train(), renamed),
      ['score-renamed.csv', 'column 2 is "g1", expected "f1"'],
    );
    const swapped = loadTable(file('score-order.csv', 'f1,f0,f2\n1,2,3\n'));
    userError(() => checkSameColumns(train(), swapped), ['different order'], /Reorder/);
  });

  it('.npy against CSV compares counts only', () => {
    const p = path.join(dir, 'score.npy');
    writeNpy(p, { rows: 1, cols: 3, data: new Float32Array([1, 2, 3]) });
    expect(() => checkSameColumns(train(), loadTable(p))).not.toThrow();
    const q = path.join(dir, 'score4.npy');
    writeNpy(q, { rows: 1, cols: 4, data: new Float32Array([1, 2, 3, 4]) });
    userError(() => checkSameColumns(train(), loadTable(q)), ['score4.npy', '4 feature columns', 'has 3']);
  });
});

describe('.npy', () => {
  it('round trip through writeNpy/readNpy', () => {
    const m: Matrix = { rows: 3, cols: 2, data: new Float32Array([1, -2.5, 3e-7, 4, 5, 1e30]) };
    const p = path.join(dir, 'rt.npy');
    writeNpy(p, m);
    const buf = fs.readFileSync(p);
    expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
    expect((10 + buf.readUInt16LE(8)) % 64).toBe(0);
    expect(buf.toString('latin1', 10, 10 + buf.readUInt16LE(8))).toContain("'descr': '<f4'");
    const back = readNpy(p);
    expect(back.rows).toBe(3);
    expect(back.cols).toBe(2);
    expect(Array.from(back.data)).toEqual(Array.from(m.data));
    const t = loadTable(p);
    expect(t.columns).toEqual(['f0', 'f1']);
    expect(t.labels).toBeNull();
  });

  it('reads <f8, <i4, <i8 and format version 2/3', () => {
    const f8 = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64([1, 2, 3, 4.5])),
      'a.npy',
    );
    expect(Array.from(f8.data)).toEqual([1, 2, 3, 4.5]);
    const i4 = Buffer.alloc(8);
    i4.writeInt32LE(-7, 0);
    i4.writeInt32LE(9, 4);
    expect(
      Array.from(
        parseNpy(npyBytes("{'descr': '<i4', 'fortran_order': False, 'shape': (1, 2), }", i4), 'b.npy').data,
      ),
    ).toEqual([-7, 9]);
    const i8 = Buffer.alloc(16);
    i8.writeBigInt64LE(-3n, 0);
    i8.writeBigInt64LE(12n, 8);
    expect(
      Array.from(
        parseNpy(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 1), }", i8), 'c.npy').data,
      ),
    ).toEqual([-3, 12]);
    const v2 = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f64([5, 6]), 2),
      'd.npy',
    );
    expect(Array.from(v2.data)).toEqual([5, 6]);
    const v3 = parseNpy(
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2), }", f64([7, 8]), 3),
      'e.npy',
    );
    expect(Array.from(v3.data)).toEqual([7, 8]);
  });

  it('wrong dtype', () => {
    const p = file(
      'u1.npy',
      npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", Buffer.alloc(4)),
    );
    userError(() => loadTable(p), [p, "'|u1'", 'float32'], /astype\('<f4'\)/);
    const s = file(
      'str.npy',
      npyBytes("{'descr': '<U3', 'fortran_order': False, 'shape': (1, 1), }", Buffer.alloc(12)),
    );
    userError(() => readNpy(s), [s, "'<U3'"]);
  });

  it('big-endian', () => {
    const p = file(
      'be.npy',
      npyBytes("{'descr': '>f8', 'fortran_order': False, 'shape': (1, 1), }", Buffer.alloc(8)),
    );
    userError(() => readNpy(p), [p, 'big-endian'], /astype\('<f4'\)/);
  });

  it('Fortran order', () => {
    const p = file(
      'fortran.npy',
      npyBytes("{'descr': '<f8', 'fortran_order': True, 'shape': (1, 2), }", f64([1, 2])),
    );
    userError(() => readNpy(p), [p, 'Fortran'], /ascontiguousarray/);
  });

  it('1-D array', () => {
    const p = file(
      '1d.npy',
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", f64([1, 2, 3])),
    );
    userError(() => loadTable(p), [p, '1-D', '(3,)'], /reshape\(-1, 1\)/);
  });

  it('3-D array', () => {
    const p = file(
      '3d.npy',
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 1, 2), }", f64([1, 2, 3, 4])),
    );
    userError(() => loadTable(p), [p, '3-D', '(2, 1, 2)'], /reshape\(len\(x\), -1\)/);
  });

  it('truncated data and truncated header', () => {
    const full = encodeNpy({ rows: 4, cols: 3, data: new Float32Array(12) });
    const p = file('trunc.npy', full.subarray(0, full.length - 10));
    userError(
      () => loadTable(p),
      [p, 'truncated', '(4, 3)', '48 data bytes', 'only 38', '3 of 4 rows'],
      /cut off/,
    );
    const q = file('trunc-head.npy', full.subarray(0, 30));
    userError(() => readNpy(q), [q, 'truncated', 'header']);
  });

  it('extra bytes after the data', () => {
    const full = encodeNpy({ rows: 1, cols: 2, data: new Float32Array(2) });
    const p = file('extra.npy', Buffer.concat([full, Buffer.alloc(4)]));
    userError(() => readNpy(p), [p, '4 bytes more']);
  });

  it('not an npy file, empty npy, npz archive', () => {
    const p = file('text.npy', 'f0,f1\n1,2\n');
    userError(() => readNpy(p), [p, 'not a NumPy .npy file']);
    const e = file('empty.npy', '');
    userError(() => loadTable(e), [e, 'empty']);
    const z = file('arch.npy', Buffer.from([0x50, 0x4b, 3, 4, 0, 0, 0, 0, 0, 0, 0]));
    userError(() => readNpy(z), [z], /\.npz/);
  });

  it('NaN in npy names row and column; label column with .npy is an error', () => {
    const p = file(
      'nan.npy',
      npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", f64([1, 2, 3, NaN])),
    );
    userError(() => loadTable(p), [p, 'row 2', 'column 2', 'NaN'], /isfinite/);
    const q = path.join(dir, 'lab.npy');
    writeNpy(q, { rows: 2, cols: 2, data: new Float32Array(4) });
    userError(() => loadTable(q, { labelColumn: 'label' }), [q, '"label"'], /CSV/);
    userError(() => loadTable(q, { requireLabel: true }), [q, 'label']);
  });
});

describe('standardizer', () => {
  function randomMatrix(rows: number, cols: number, seed: number): Matrix {
    const rng = new Rng(seed);
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = 10 + 3 * rng.normal() * ((i % cols) + 1);
    return { rows, cols, data };
  }
  function colStats(m: Matrix, c: number): { mean: number; std: number } {
    let s = 0;
    for (let r = 0; r < m.rows; r++) s += m.data[r * m.cols + c];
    const mean = s / m.rows;
    let ss = 0;
    for (let r = 0; r < m.rows; r++) ss += (m.data[r * m.cols + c] - mean) ** 2;
    return { mean, std: Math.sqrt(ss / m.rows) };
  }

  it('mean-std gives mean ≈ 0 and std ≈ 1', () => {
    const x = randomMatrix(500, 3, 7);
    const s = fitStandardizer(x, ['a', 'b', 'c'], 'mean-std');
    expect(s.keep).toEqual([0, 1, 2]);
    expect(s.dropped).toEqual([]);
    const z = applyStandardizer(s, x);
    for (let c = 0; c < 3; c++) {
      const { mean, std } = colStats(z, c);
      expect(Math.abs(mean)).toBeLessThan(1e-4);
      expect(std).toBeCloseTo(1, 4);
    }
  });

  it('median-iqr centers on the median and scales by the IQR', () => {
    const x: Matrix = { rows: 5, cols: 1, data: new Float32Array([1, 2, 3, 4, 100]) };
    const s = fitStandardizer(x, ['a'], 'median-iqr');
    expect(s.center[0]).toBe(3);
    expect(s.scale[0]).toBe(2); // q75 = 4, q25 = 2
    expect(Array.from(applyStandardizer(s, x).data)).toEqual([-1, -0.5, 0, 0.5, 48.5]);
  });

  it('median-iqr falls back to std when the IQR is 0, with a note', () => {
    const x: Matrix = { rows: 6, cols: 1, data: new Float32Array([0, 0, 0, 0, 0, 6]) };
    const s = fitStandardizer(x, ['sparse'], 'median-iqr');
    expect(s.keep).toEqual([0]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(5), 5);
    expect(s.notes.join('\n')).toMatch(/"sparse".*interquartile range is 0.*standard deviation/);
  });

  it('drops a constant column with a notice (not an error)', () => {
    const x: Matrix = { rows: 3, cols: 3, data: new Float32Array([1, 0.1, 5, 2, 0.1, 6, 3, 0.1, 8]) };
    const s = fitStandardizer(x, ['a', 'const', 'b'], 'mean-std');
    expect(s.columns).toEqual(['a', 'b']);
    expect(s.keep).toEqual([0, 2]);
    expect(s.dropped).toHaveLength(1);
    expect(s.dropped[0].column).toBe('const');
    expect(s.dropped[0].reason).toMatch(/constant/);
    expect(s.notes.join('\n')).toMatch(/"const" dropped/);
    const z = applyStandardizer(s, x);
    expect(z.cols).toBe(2);
  });

  it('all columns constant is an error', () => {
    const x: Matrix = { rows: 3, cols: 2, data: new Float32Array([1, 2, 1, 2, 1, 2]) };
    userError(
      () => fitStandardizer(x, ['a', 'b'], 'median-iqr', '"train.csv"'),
      ['All 2 feature columns', 'constant', '"train.csv"'],
      /right file/,
    );
  });

  it('applying to data with the wrong column count names expected vs got', () => {
    const s = fitStandardizer(randomMatrix(10, 3, 1), ['a', 'b', 'c'], 'mean-std');
    userError(
      () => applyStandardizer(s, randomMatrix(4, 2, 2), '"score.csv"'),
      ['"score.csv"', 'expected 3', 'got 2', 'a, b, c'],
    );
  });

  it('l2Normalize makes rows unit length and leaves zero rows zero', () => {
    const z = l2Normalize({ rows: 2, cols: 2, data: new Float32Array([3, 4, 0, 0]) });
    expect(Array.from(z.data)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
  });
});

describe('splits', () => {
  const labels = new Float32Array(110);
  for (let i = 100; i < 110; i++) labels[i] = 1; // 100 normal, 10 anomalies

  it('protocol split sizes and contents', () => {
    const s = tabularProtocolSplit(labels, 0.6, 42);
    expect(s.train.length).toBe(60);
    expect(s.testIdx.length).toBe(50);
    expect(s.testLabels.length).toBe(50);
    for (const i of s.train) expect(labels[i]).toBe(0);
    const all = new Set([...s.train, ...s.testIdx]);
    expect(all.size).toBe(110); // disjoint and covering
    let anomalies = 0;
    for (const l of s.testLabels) anomalies += l;
    expect(anomalies).toBe(10);
    s.testIdx.forEach((idx, k) => expect(s.testLabels[k]).toBe(labels[idx]));
  });

  it('protocol split is determined by the seed', () => {
    const a = tabularProtocolSplit(labels, 0.6, 5);
    const b = tabularProtocolSplit(labels, 0.6, 5);
    const c = tabularProtocolSplit(labels, 0.6, 6);
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect(Array.from(a.testIdx)).toEqual(Array.from(b.testIdx));
    expect(Array.from(a.train)).not.toEqual(Array.from(c.train));
  });

  it('protocol split errors: bad share, too few normals, no anomalies', () => {
    userError(() => tabularProtocolSplit(labels, 1.5, 0), ['1.5']);
    userError(
      () => tabularProtocolSplit(new Float32Array([0, 1, 1]), 0.6, 0, '"x.csv"'),
      ['"x.csv"', '1 normal row'],
    );
    userError(
      () => tabularProtocolSplit(new Float32Array(10), 0.6, 0, '"x.csv"'),
      ['"x.csv"', 'no anomalies'],
    );
  });

  it('holdOut sizes and determinism', () => {
    const a = holdOut(100, 0.2, new Rng(3));
    expect(a.held.length).toBe(20);
    expect(a.train.length).toBe(80);
    expect(new Set([...a.held, ...a.train]).size).toBe(100);
    const b = holdOut(100, 0.2, new Rng(3));
    expect(Array.from(a.held)).toEqual(Array.from(b.held));
    expect(holdOut(5, 0.01, new Rng(1)).held.length).toBe(1);
    expect(holdOut(5, 0, new Rng(1)).held.length).toBe(0);
  });
});
