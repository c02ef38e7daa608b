/**
 * Decoding with bounded memory (issue 13): the process-wide decode memory budget admits decodes by
 * their estimated bytes (in arrival order, an oversized one alone), and the default pixel limit of
 * 100 MP refuses the 16383² PNG from its header, with the "too large: W×H" reason, in the
 * scan and in decoding. The peak memory of real decodes is measured in
 * test/integration/hardening-decodeMemory.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  decodeImage,
  DEFAULT_PIXEL_LIMIT,
  decodeMemoryInUse,
  scanFolder,
  setDecodeMemoryBudget,
} from '../../src/main/engine/data/images';
import { decodeBytes, withDecodeMemory } from '../../src/main/engine/data/images/decodeMemory';
import { UserError } from '../../src/main/engine/util/errors';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the decode memory budget', () => {
  let previous: number;
  beforeAll(() => (previous = setDecodeMemoryBudget(100)));
  afterAll(() => setDecodeMemoryBudget(previous));

  it('never holds more than the budget at once, except one oversized decode alone', async () => {
    const sizes = [60, 30, 30, 10, 150, 20, 90, 5, 5, 100, 40];
    let peak = 0;
    let oversizedWithOthers = false;
    await Promise.all(
      sizes.map((bytes, i) =>
        withDecodeMemory(bytes, async () => {
          const now = decodeMemoryInUse();
          if (bytes > 100 && now.running > 1) oversizedWithOthers = true;
          if (bytes <= 100) peak = Math.max(peak, now.bytes);
          await sleep(5 + (i % 3) * 5);
        }),
      ),
    );
    expect(peak).toBeLessThanOrEqual(100);
    expect(oversizedWithOthers).toBe(false);
    expect(decodeMemoryInUse()).toEqual({ bytes: 0, running: 0, waiting: 0 });
  });

  it('admits in arrival order: a large decode is not starved by small ones arriving after it', async () => {
    const started: string[] = [];
    const run = (name: string, bytes: number, ms: number) =>
      withDecodeMemory(bytes, async () => {
        started.push(name);
        await sleep(ms);
      });
    await Promise.all([
      run('first', 60, 30),
      run('large', 80, 5),
      run('small-1', 10, 5),
      run('small-2', 10, 5),
    ]);
    expect(started).toEqual(['first', 'large', 'small-1', 'small-2']);
  });

  it('releases the reservation when a decode fails', async () => {
    await expect(
      withDecodeMemory(50, async () => {
        throw new Error('corrupt');
      }),
    ).rejects.toThrow('corrupt');
    expect(decodeMemoryInUse().bytes).toBe(0);
  });

  it('estimates from width × height × channels: whole frames and full-size RGB grow with the area, streams with the width', () => {
    expect(decodeBytes('frame', 1000, 2000, 4)).toBe(8_000_000);
    expect(decodeBytes('full-rgb', 1000, 2000, 4)).toBe(14_000_000);
    expect(decodeBytes('stream', 16383, 16383, 4)).toBe(16383 * 4 * 1024);
    expect(decodeBytes('stream', 32, 32, 3)).toBe(32 * 32 * 3);
  });

  it('rejects a nonsensical budget', () => {
    expect(() => setDecodeMemoryBudget(0)).toThrow(RangeError);
    expect(() => setDecodeMemoryBudget(Number.NaN)).toThrow(RangeError);
  });
});

/** A PNG of width × height RGBA holding only its first 4 rows (a few KB): enough for the header check. */
function pngFirstRows(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const rows = chunk('IDAT', zlib.deflateSync(Buffer.alloc((width * 4 + 1) * 4)));
  return Buffer.concat([sig, chunk('IHDR', ihdr), rows, chunk('IEND', Buffer.alloc(0))]);
}

describe('the pixel limit fit for a desktop', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-pixels-'));
    fs.writeFileSync(path.join(dir, 'big.png'), pngFirstRows(16383, 16383));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => expect(decodeMemoryInUse().bytes).toBe(0));

  it('is 100 MP by default', () => {
    expect(DEFAULT_PIXEL_LIMIT).toBe(100_000_000);
  });

  it('the scan skips the issue’s 16383² PNG from its header, saying how large it is', async () => {
    const scan = await scanFolder(dir);
    expect(scan.items).toHaveLength(1);
    expect(scan.items[0]).toMatchObject({
      status: 'unreadable',
      reason: 'too large: 16383×16383 px exceeds the 100 MP limit',
      width: 16383,
      height: 16383,
    });
  });

  it('decoding refuses it too, and a raised limit is honoured (the header then passes the check)', async () => {
    const target = { width: 32, height: 32, resize: 'squash' as const };
    const e = await decodeImage(path.join(dir, 'big.png'), target).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/too large: 16383×16383 px exceeds the 100 MP limit/);
    // with sharp's old limit the header passes and the (missing) pixel data is what fails
    const raised = await decodeImage(path.join(dir, 'big.png'), target, { pixelLimit: 268_402_689 }).catch(
      (err: unknown) => err,
    );
    expect(raised).toBeInstanceOf(UserError);
    expect((raised as UserError).message).not.toMatch(/too large/);
  });
});
