/**
 * Bad inputs never crash CF Studio (issue 13). The generated corpus (test/fixtures/makeBadInputs.ts:
 * malformed CSV/.npy, crafted .cfdet, odd images) is refused file by file with the expected reason;
 * and property tests (fast-check) throw random and half-valid input at the CSV and .npy parsers and
 * at the IPC argument schemas: the outcome is a valid result or a UserError with a clear
 * one-line message — never another exception, never "internal error" — and nothing is written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanFolder } from '../../src/main/engine/data/images';
import { parseCsvTable } from '../../src/main/engine/data/csv';
import { parseNpy } from '../../src/main/engine/data/npy';
import { loadTable } from '../../src/main/engine/data/table';
import { loadDetector } from '../../src/main/engine/model/cfdet';
import { UserError } from '../../src/main/engine/util/errors';
import { ARG_SCHEMAS } from '../../src/main/ipc/schemas';
import { makeBadInputs, npyFile, type BadInput } from '../fixtures/makeBadInputs';

let dir: string;
let corpus: BadInput[];
/** Every file in `dir` with its size: what "nothing written" is checked against. */
const listing = (d: string) =>
  fs
    .readdirSync(d, { recursive: true })
    .map(String)
    .sort()
    .map((f) => `${f}:${fs.statSync(path.join(d, f)).size}`);

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-bad-'));
  corpus = await makeBadInputs(path.join(dir, 'corpus'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A clear refusal: a UserError whose message is one line, short, and not an internal error. */
function expectClearUserError(e: unknown, context: string): asserts e is UserError {
  if (!(e instanceof UserError)) throw new Error(`${context}: threw ${String(e)} instead of a UserError`);
  expect(e.message.length, context).toBeGreaterThan(10);
  expect(e.message.length, context).toBeLessThan(1000);
  expect(e.message, context).not.toMatch(/internal error|\n|undefined|\[object Object\]/);
}

describe('the bad-input corpus is refused, file by file, with the reason', () => {
  it('covers tables, detectors and images', () => {
    const kinds = new Set(corpus.map((c) => c.loader));
    expect([...kinds].sort()).toEqual(['cfdet', 'image', 'table']);
    expect(corpus.length).toBeGreaterThan(50);
  });

  it('tables (CSV and .npy)', () => {
    const before = listing(path.join(dir, 'corpus'));
    for (const c of corpus.filter((k) => k.loader === 'table')) {
      let e: unknown = null;
      try {
        loadTable(path.join(dir, 'corpus', c.name));
      } catch (err) {
        e = err;
      }
      expectClearUserError(e, c.name);
      expect(e.message, c.name).toMatch(c.reason);
    }
    expect(listing(path.join(dir, 'corpus'))).toEqual(before);
  });

  it('detectors (.cfdet)', () => {
    for (const c of corpus.filter((k) => k.loader === 'cfdet')) {
      let e: unknown = null;
      try {
        loadDetector(path.join(dir, 'corpus', c.name));
      } catch (err) {
        e = err;
      }
      expectClearUserError(e, c.name);
      expect(e.message, c.name).toMatch(c.reason);
    }
  });

  it('images: a scan lists each one as unreadable with its reason, and never throws', async () => {
    const images = corpus.filter((k) => k.loader === 'image');
    const folder = path.join(dir, 'images');
    fs.mkdirSync(folder);
    for (const c of images) fs.copyFileSync(path.join(dir, 'corpus', c.name), path.join(folder, c.name));
    const scan = await scanFolder(folder);
    for (const c of images) {
      const item = scan.items.find((i) => i.relPath === c.name);
      expect(item?.status, c.name).toBe('unreadable');
      expect(item?.reason, c.name).toMatch(c.reason);
    }
    expect(scan.items).toHaveLength(images.length);
  });
});

/** Runs `fn`; a UserError is a fine outcome, any other exception fails the property. */
function userErrorOr<T>(fn: () => T, context: () => string): T | UserError {
  try {
    return fn();
  } catch (e) {
    expectClearUserError(e, context());
    return e;
  }
}

const CSV_CHARS = [...'0123456789.,;\t"\r\n -+eE', 'a', 'x', 'NaN', 'inf', '\uFEFF', '\u0000', 'é'];
const csvText = fc.array(fc.constantFrom(...CSV_CHARS), { maxLength: 300 }).map((a) => a.join(''));
/** Mostly well-formed tables with a few broken cells, so the checks past the header are reached. */
const nearlyValidCsv = fc
  .record({
    cols: fc.integer({ min: 1, max: 6 }),
    rows: fc.array(
      fc.array(fc.oneof(fc.double({ noNaN: false }), fc.constantFrom('', 'x', '1,5', '"q"', '1e40')), {
        minLength: 0,
        maxLength: 7,
      }),
      { maxLength: 8 },
    ),
    delimiter: fc.constantFrom(',', ';', '\t'),
    label: fc.boolean(),
  })
  .map(({ cols, rows, delimiter, label }) => {
    const header = Array.from({ length: cols }, (_, i) => (label && i === cols - 1 ? 'label' : `f${i}`));
    const lines = [header.join(delimiter), ...rows.map((r) => r.map(String).join(delimiter))];
    return { text: lines.join('\n'), label: label ? 'label' : undefined };
  });

function checkTable(t: ReturnType<typeof parseCsvTable>) {
  expect(t.x.data.length).toBe(t.x.rows * t.x.cols);
  expect(t.columns.length).toBe(t.x.cols);
  expect(t.x.rows).toBeGreaterThan(0);
  for (const v of t.x.data) expect(Number.isFinite(v)).toBe(true);
}

describe('property: the CSV parser', () => {
  it('random text: a table of finite numbers or a clear UserError', () => {
    fc.assert(
      fc.property(csvText, (text) => {
        const r = userErrorOr(
          () => parseCsvTable(text, 'random.csv'),
          () => JSON.stringify(text),
        );
        if (!(r instanceof UserError)) checkTable(r);
      }),
      { numRuns: 1500 },
    );
  });

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const r = userErrorOr(
          () => parseCsvTable(Buffer.from(bytes), 'bytes.csv'),
          () => `[${bytes}]`,
        );
        if (!(r instanceof UserError)) checkTable(r);
      }),
      { numRuns: 1000 },
    );
  });

  it('nearly valid tables, with and without a label column', () => {
    fc.assert(
      fc.property(nearlyValidCsv, ({ text, label }) => {
        const r = userErrorOr(
          () => parseCsvTable(text, 't.csv', { labelColumn: label }),
          () => JSON.stringify(text),
        );
        if (!(r instanceof UserError)) {
          checkTable(r);
          if (label) for (const v of r.labels!) expect([0, 1]).toContain(v);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('loading random files writes nothing next to them', () => {
    const folder = fs.mkdtempSync(path.join(dir, 'csv-'));
    const file = path.join(folder, 'input.csv');
    fc.assert(
      fc.property(csvText, (text) => {
        fs.writeFileSync(file, text);
        userErrorOr(
          () => loadTable(file),
          () => JSON.stringify(text),
        );
        expect(fs.readdirSync(folder)).toEqual(['input.csv']);
        expect(fs.readFileSync(file, 'utf8')).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('property: the .npy parser', () => {
  const dtype = fc.constantFrom(
    "'<f4'",
    "'<f8'",
    "'<i4'",
    "'<i8'",
    "'>f4'",
    "'|b1'",
    "'<f2'",
    "[('a', '<f4')]",
    "''",
    'None',
  );
  const dim = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom(-1, 2 ** 32, 1e15, 5000, 2 ** 53));
  const header = fc
    .record({
      descr: dtype,
      fortran: fc.constantFrom('False', 'True', 'maybe'),
      shape: fc.array(fc.oneof(dim.map(String), fc.constantFrom('nan', '1.5', 'L', '')), { maxLength: 4 }),
      drop: fc.constantFrom('', 'descr', 'shape', 'fortran_order'),
      // line breaks, control characters and long runs where a value is expected
      junk: fc.oneof(
        fc.constant(''),
        fc.string({ unit: fc.constantFrom('\n', '\u0007', 'x', ')', "'", ','), maxLength: 40 }),
        fc.constant('y'.repeat(3000)),
      ),
      junkAt: fc.constantFrom('descr', 'shape', 'end'),
    })
    .map(({ descr, fortran, shape, drop, junk, junkAt }) => {
      const parts = [
        `'descr': ${junkAt === 'descr' ? `'${junk}'` : descr}`,
        `'fortran_order': ${fortran}`,
        `'shape': (${shape.join(', ')}${junkAt === 'shape' ? junk : ''}${shape.length === 1 ? ',' : ''})`,
      ];
      return `{${parts.filter((p) => !drop || !p.startsWith(`'${drop}`)).join(', ')}, ${junkAt === 'end' ? junk : ''}}`;
    });

  it('random headers and data lengths: a finite matrix or a clear UserError', () => {
    fc.assert(
      fc.property(
        header,
        fc.uint8Array({ maxLength: 256 }),
        fc.constantFrom(1, 2, 3),
        (dict, data, version) => {
          const buf = npyFile(dict, Buffer.from(data), version);
          const r = userErrorOr(
            () => parseNpy(buf, 'r.npy'),
            () => `${dict} + ${data.length} bytes`,
          );
          if (!(r instanceof UserError)) {
            expect(r.data.length).toBe(r.rows * r.cols);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('random bytes after the magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (rest) => {
        const buf = Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]), Buffer.from(rest)]);
        userErrorOr(
          () => parseNpy(buf, 'r.npy'),
          () => `[${rest}]`,
        );
      }),
      { numRuns: 1500 },
    );
  });
});

describe('property: the IPC argument schemas', () => {
  const channels = Object.keys(ARG_SCHEMAS) as (keyof typeof ARG_SCHEMAS)[];

  it('every channel answers any input with success or issues, fast, and the refusal reads as one clear line', () => {
    expect(channels.length).toBeGreaterThan(10);
    fc.assert(
      fc.property(
        fc.constantFrom(...channels),
        fc.oneof(fc.anything({ maxDepth: 4 }), fc.array(fc.anything({ maxDepth: 3 }), { maxLength: 3 })),
        (channel, args) => {
          const t0 = performance.now();
          const r = ARG_SCHEMAS[channel].safeParse(args);
          expect(performance.now() - t0).toBeLessThan(200);
          if (!r.success) {
            // what the handlers report (src/main/ipc/handlers.ts: the first issue, one line)
            const issue = r.error.issues[0];
            const message = `${channel}: invalid arguments (${issue.path.join('.') || 'arguments'}: ${issue.message})`;
            expect(message).not.toMatch(/\n/);
            expect(message.length).toBeLessThan(400);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('oversized arguments are refused before their schema runs', () => {
    const huge = Array.from({ length: 60_000 }, () => 1);
    for (const channel of channels) {
      const t0 = performance.now();
      const r = ARG_SCHEMAS[channel].safeParse([huge]);
      expect(r.success, channel).toBe(false);
      expect(performance.now() - t0, channel).toBeLessThan(100);
    }
  });
});
