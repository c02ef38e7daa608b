/**
 * .cfdet content is validated, not only checksummed (issue 13): a header edited by hand with its
 * checksum recomputed — the issue's short `center` array, a bad flow spec, NaN parameters, shapes
 * that disagree with D, unknown kinds, a broken extractor spec — is refused with a sentence naming
 * what is wrong (never a zod dump or "internal error"); every real detector still loads. Scoring
 * that yields a non-finite score fails loudly with how many rows.
 */
import { describe, expect, it } from 'vitest';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { METHODS, type Method } from '../../src/main/engine/detector/methods';
import type { PreprocessKind } from '../../src/main/engine/detector/preprocess';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import type { Detector } from '../../src/main/engine/detector/types';
import { decodeDetector, encodeDetector } from '../../src/main/engine/model/cfdet';
import { UserError } from '../../src/main/engine/util/errors';
import { Rng } from '../../src/main/engine/util/rng';
import { blobOffset, craftCfdet, type CfdetHeader } from '../fixtures/craftCfdet';

const rng = new Rng(13);
const COLS = 4;
const x = {
  rows: 200,
  cols: COLS,
  data: Float32Array.from({ length: 200 * COLS }, () => rng.normal() * 2 + 1),
};
const columns = ['a', 'b', 'c', 'd'];

async function train(
  method: Method,
  preprocess: PreprocessKind = 'standardize',
  names: string[] = columns,
): Promise<Detector> {
  const c = defaultDetectorConfig(method, preprocess);
  c.flow = { ...c.flow, blocks: 2, hidden: 8 };
  c.train = { ...c.train, steps: 10, batchSize: 32 };
  c.oe = { ...c.oe, steps: 5 };
  const needsContrast = ['cf', 'ratio', 'oe', 'mse-ratio'].includes(method);
  return fitDetector({ inliers: x, columns: names, contrast: needsContrast ? 'permutation' : null }, c);
}

function refused(buf: Buffer): UserError {
  try {
    decodeDetector(buf, 'crafted.cfdet');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as UserError).message;
    expect(m).toMatch(/^crafted\.cfdet is not (a valid CF Studio detector: |a CF Studio detector file \()/);
    expect(m).not.toMatch(/internal error|"code":|"expected":|\n/);
    expect(m.length).toBeLessThan(300);
    return e as UserError;
  }
  throw new Error('the crafted file was accepted');
}

describe('.cfdet content validation', () => {
  it.each(METHODS)('a real %s detector still loads and scores as before', async (method) => {
    const det = await train(method);
    const back = decodeDetector(encodeDetector(det), 'real.cfdet');
    expect(Array.from((await scoreDetector(back, x)).score)).toEqual(
      Array.from((await scoreDetector(det, x)).score),
    );
  });

  it('real detectors with l2, none and median-iqr preprocessing and an image extractor load', async () => {
    for (const [pre, names] of [
      ['l2', []], // image features: no column names
      ['l2', columns],
      ['none', columns],
      ['median-iqr', columns],
    ] as const) {
      const det = await train('flow', pre, [...names]);
      det.meta.extractor = {
        name: 'moco',
        sha256: 'ab'.repeat(32),
        spec: {
          inputName: 'images',
          outputName: 'embedding',
          width: 32,
          height: 32,
          layout: 'NCHW',
          channelOrder: 'RGB',
          scale: 1 / 255,
          mean: [0, 0, 0],
          std: [1, 1, 1],
          resize: 'squash',
          l2Normalize: true,
        },
      };
      expect(decodeDetector(encodeDetector(det), `${pre}.cfdet`).preprocessing.kind).toBe(pre);
    }
  });

  it('the issue’s case: a short `center` array (checksum recomputed) is refused, naming the shapes', async () => {
    const file = encodeDetector(await train('flow'));
    const crafted = craftCfdet(file, (h) => (h.preprocessing.standardizer.center.$f32[1] = 1));
    expect(refused(crafted).message).toBe(
      'crafted.cfdet is not a valid CF Studio detector: preprocessing.standardizer.center has 1 values for 4 kept columns',
    );
  });

  const cases: [string, Method, (h: CfdetHeader, blob: Buffer) => void, RegExp][] = [
    [
      'a flow spec field of the wrong type',
      'flow',
      (h) => (h.flows[0].spec.blocks = 'many'),
      /the inlier flow's spec: blocks: .*expected number/,
    ],
    [
      'a flow spec whose permutations do not match its dimension',
      'flow',
      (h) => (h.flows[0].spec.permutations[0] = [0, 0, 1, 2]),
      /the inlier flow's spec is inconsistent \(.*not a permutation/,
    ],
    ['a flow for another feature dimension', 'flow', (h) => (h.flows[0].spec.dim = 6), /flow/],
    [
      'a NaN in a flow parameter',
      'cf',
      (h, blob) => blob.writeFloatLE(Number.NaN, blobOffset(h.flows[0].params['b0.w1']) + 8),
      /flow parameter b0\.w1 holds a non-finite number \(index 2 is NaN\)/,
    ],
    [
      'an infinite preprocessing scale',
      'flow',
      (h, blob) => blob.writeFloatLE(Infinity, blobOffset(h.preprocessing.standardizer.scale)),
      /standardizer holds a non-finite number/,
    ],
    [
      'a zero preprocessing scale',
      'flow',
      (h, blob) => blob.writeFloatLE(0, blobOffset(h.preprocessing.standardizer.scale)),
      /scale holds a value that is not > 0/,
    ],
    [
      'an unknown method',
      'flow',
      (h) => (h.method = 'magic'),
      /^crafted\.cfdet is not a valid CF Studio detector: method: /,
    ],
    [
      'an unknown preprocessing kind',
      'flow',
      (h) => (h.preprocessing.kind = 'whiten'),
      /preprocessing\.kind: Invalid discriminator value/,
    ],
    [
      'a kept-column index out of range',
      'flow',
      (h) => (h.preprocessing.standardizer.keep[3] = 9),
      /keep is not an increasing list of column indices below 4/,
    ],
    [
      'Flow-ratio without its contrast flow',
      'ratio',
      (h) => h.flows.pop(),
      /a ratio detector needs flows \[contrast, inlier\], the file has \[inlier\]/,
    ],
    [
      'a method whose baseline is another one',
      'knn',
      (h) => (h.method = 'kde'),
      /a kde detector needs a kde baseline, the file has knn/,
    ],
    [
      'a KNN training matrix of another width',
      'knn',
      (h) => (h.baseline.tensors.train.cols = 3),
      /the knn baseline's train holds \d+ numbers for \d+×3/,
    ],
    [
      'a KNN k larger than its training rows',
      'knn',
      (h) => (h.baseline.params.k = 10_000),
      /the knn baseline's k \(10000\)/,
    ],
    [
      'a PCA mean of the wrong length',
      'pca',
      (h) => (h.baseline.tensors.mean.data.$f32[1] = 3),
      /the pca baseline's mean holds 3 numbers/,
    ],
    ['an ε that is not a number', 'cf', (h) => (h.eps.value = { $num: 'NaN' }), /eps\.value: .*NaN/],
    [
      'an extractor spec with a negative width',
      'flow',
      (h) =>
        (h.meta.extractor = {
          name: 'm',
          sha256: 'ab'.repeat(32),
          spec: { inputName: 'i', outputName: 'o', width: -1, height: 32 },
        }),
      /meta\.extractor\.spec\.width: /,
    ],
    [
      'an array reference with a fractional offset',
      'mse',
      (h) => (h.baseline.tensors.mean.data.$f32[0] = 0.5),
      /unreadable header: array reference out of range/,
    ],
    [
      'more columns than CF Studio takes',
      'flow',
      (h) => (h.preprocessing.standardizer.inputColumns = Array.from({ length: 5000 }, (_, i) => `c${i}`)),
      /preprocessing\.standardizer\.inputColumns: Too big/,
    ],
  ];

  it.each(cases)('refuses %s', async (_what, method, edit, reason) => {
    const crafted = craftCfdet(encodeDetector(await train(method)), edit);
    expect(refused(crafted).message).toMatch(reason);
  });
});

describe('non-finite scores fail loudly', () => {
  it('a row far outside float range gives a UserError naming how many rows and which', async () => {
    const det = await train('flow', 'none');
    const rows = 5;
    const data = new Float32Array(rows * COLS).fill(0.5);
    data.fill(3e38, 1 * COLS, 2 * COLS); // row 2
    data.fill(-3e38, 3 * COLS, 4 * COLS); // row 4
    const e = await scoreDetector(det, { rows, cols: COLS, data }, 'new.csv').catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toBe(
      'the flow detector gave no valid score for 2 of 5 rows of new.csv (NaN or infinite; rows 2, 4)',
    );
  });

  it('a baseline that cannot score (KDE of a point at float max) is refused the same way', async () => {
    const det = await train('kde', 'none');
    const data = new Float32Array(COLS).fill(3.4e38);
    const e = await scoreDetector(det, { rows: 1, cols: COLS, data }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/the kde detector gave no valid score for 1 of 1 rows/);
  });
});
