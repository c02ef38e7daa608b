/** The .cfdet file: a save/load round trip scores identically; damage is detected. */
import { describe, expect, it } from 'vitest';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { decodeDetector, encodeDetector } from '../../src/main/engine/model/cfdet';
import { UserError } from '../../src/main/engine/util/errors';
import { Rng } from '../../src/main/engine/util/rng';

const rng = new Rng(2);
const x = { rows: 300, cols: 4, data: Float32Array.from({ length: 1200 }, () => rng.normal() * 3 + 1) };

describe('.cfdet model file', () => {
  for (const method of ['ratio', 'pca'] as const) {
    it(`round-trips a ${method} detector with identical scores, spec and metadata`, async () => {
      const c = defaultDetectorConfig(method);
      c.flow = { ...c.flow, blocks: 2, hidden: 8 };
      c.train = { ...c.train, steps: 20, batchSize: 64 };
      const det = await fitDetector(
        { inliers: x, columns: ['a', 'b', 'c', 'd'], contrast: 'permutation' },
        c,
      );
      const back = decodeDetector(encodeDetector(det), 'mem.cfdet');
      expect(back.method).toBe(method);
      expect(back.meta.dataHashes).toEqual(det.meta.dataHashes);
      expect(back.flows.map((f) => f.spec)).toEqual(det.flows.map((f) => f.spec));
      expect(Array.from((await scoreDetector(back, x)).score)).toEqual(
        Array.from((await scoreDetector(det, x)).score),
      );
      if (method === 'ratio') expect(back.meta.backend?.backend).toBe(det.meta.backend?.backend);
    });
  }

  it('rejects damaged, foreign and newer files with a UserError', async () => {
    const det = await fitDetector(
      { inliers: x, columns: ['a', 'b', 'c', 'd'], contrast: null },
      defaultDetectorConfig('mse'),
    );
    const buf = encodeDetector(det);
    const flipped = Buffer.from(buf);
    flipped[Math.floor(buf.length / 2)] ^= 1;
    expect(() => decodeDetector(flipped, 'f.cfdet')).toThrow(/damaged or was modified/);
    expect(() => decodeDetector(buf.subarray(0, buf.length - 10), 'f.cfdet')).toThrow(/damaged/);
    expect(() => decodeDetector(Buffer.from('hello,world\n1,2\n'), 'f.cfdet')).toThrow(
      /not a CF Studio detector/,
    );
    expect(() => decodeDetector(Buffer.alloc(0), 'f.cfdet')).toThrow(UserError);
  });
});
