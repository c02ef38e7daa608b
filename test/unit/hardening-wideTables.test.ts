/**
 * Wide tables (issue 13): more feature columns than the flow's D×D matrices can take are refused
 * with a UserError stating the limit (MAX_FEATURE_COLUMNS), before anything D×D is built, for CSV,
 * .npy and image features, quickly even for 1e6 columns; never "internal error", "memory access
 * out of bounds" or "Invalid typed array length". The limit itself is accepted. Files are 20 rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FEATURE_COLUMNS } from '../../src/main/engine/data/featureLimit';
import { encodeNpy } from '../../src/main/engine/data/npy';
import { loadTable } from '../../src/main/engine/data/table';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { UserError } from '../../src/main/engine/util/errors';

const ROWS = 20;
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-wide-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A CSV of `cols` columns f0… (plus a label column when asked) and 20 rows of one-digit values. */
function wideCsv(cols: number, label = false): string {
  const file = path.join(dir, `wide-${cols}${label ? '-label' : ''}.csv`);
  const fd = fs.openSync(file, 'w');
  const header = Array.from({ length: cols }, (_, c) => `f${c}`);
  fs.writeSync(fd, (label ? [...header, 'label'] : header).join(',') + '\n');
  const cells = Array.from({ length: cols }, (_, c) => (c * 13) % 10);
  const row = (label ? [...cells, 0] : cells).join(',') + '\n';
  for (let r = 0; r < ROWS; r++) fs.writeSync(fd, row);
  fs.closeSync(fd);
  return file;
}

function wideNpy(cols: number): string {
  const file = path.join(dir, `wide-${cols}.npy`);
  fs.writeFileSync(file, encodeNpy({ rows: ROWS, cols, data: new Float32Array(ROWS * cols) }));
  return file;
}

function refusal(fn: () => unknown): UserError {
  const t0 = performance.now();
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as UserError).message;
    expect(msg).not.toMatch(/internal error|out of bounds|Invalid typed array length/i);
    expect(performance.now() - t0).toBeLessThan(15_000);
    return e as UserError;
  }
  throw new Error('expected a UserError');
}

describe('wide tables are refused with the stated column limit', () => {
  it('the limit is 4096 columns', () => {
    expect(MAX_FEATURE_COLUMNS).toBe(4096);
  });

  for (const cols of [12_000, 1_000_000]) {
    it(`${cols.toLocaleString('en-US')} CSV columns × ${ROWS} rows`, () => {
      const file = wideCsv(cols);
      const e = refusal(() => loadTable(file));
      expect(e.message).toBe(
        `"${file}" has ${cols.toLocaleString('en-US')} feature columns; CF Studio takes at most 4096 (a flow holds D×D matrices: training on 4096 columns already takes about 6 GB of memory)`,
      );
      expect(e.hint).toMatch(/Reduce the features to at most 4096 columns/);
    });

    it(`${cols.toLocaleString('en-US')} .npy columns × ${ROWS} rows`, () => {
      const file = wideNpy(cols);
      expect(refusal(() => loadTable(file)).message).toMatch(
        new RegExp(`has ${cols.toLocaleString('en-US')} feature columns; CF Studio takes at most 4096`),
      );
    });
  }

  it('4096 feature columns (and a label column next to them) load; 4097 do not', () => {
    const t = loadTable(wideCsv(4096, true), { labelColumn: 'label' });
    expect(t.x.cols).toBe(4096);
    expect(t.labels?.length).toBe(ROWS);
    expect(loadTable(wideNpy(4096)).x.cols).toBe(4096);
    expect(refusal(() => loadTable(wideCsv(4097, true), { labelColumn: 'label' })).message).toMatch(
      /has 4,097 feature columns/,
    );
  });

  it('image features wider than the limit are refused before training builds anything D×D', async () => {
    const cols = 5000;
    const inliers = {
      rows: ROWS,
      cols,
      data: Float32Array.from({ length: ROWS * cols }, (_, i) => (i % 17) / 17),
    };
    const e = await fitDetector(
      { inliers, columns: Array.from({ length: cols }, (_, c) => `f${c}`), contrast: 'permutation' },
      defaultDetectorConfig('cf', 'l2'),
    ).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/has 5,000 feature columns; CF Studio takes at most 4096/);
  });
});
