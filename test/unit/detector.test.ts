/** fitDetector for the methods the other tests do not train: OE, auto ε, MSE-ratio with permutation contrast. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';

beforeAll(async () => {
  await initTfjs();
});

function gaussian(n: number, mean: number[], seed: number): Matrix {
  const rng = new Rng(seed);
  const d = mean.length;
  return {
    rows: n,
    cols: d,
    data: Float32Array.from({ length: n * d }, (_, i) => mean[i % d] + rng.normal()),
  };
}

const inliers = gaussian(3000, [1, 1], 1);
const contrast = gaussian(3000, [0, 0], 2);
const small = (method: Parameters<typeof defaultDetectorConfig>[0]) => {
  const c = defaultDetectorConfig(method, 'none');
  c.flow = { ...c.flow, blocks: 3, hidden: 32 };
  c.train = { ...c.train, steps: 200, noiseStd: 0 };
  c.oe.steps = 200;
  return c;
};

describe('fitDetector', () => {
  it('OE fine-tunes a plain flow so contrast points get lower log p than under the flow', async () => {
    const flow = await fitDetector({ inliers, columns: ['a', 'b'], contrast: null }, small('flow'));
    const oe = await fitDetector({ inliers, columns: ['a', 'b'], contrast }, small('oe'));
    expect(oe.meta.phases.map((p) => p.phase)).toEqual(['flow', 'oe fine-tune']);
    const meanLogp = async (d: typeof oe) => {
      const lp = (await scoreDetector(d, contrast)).logProb!;
      return lp.reduce((a, b) => a + b, 0) / lp.length;
    };
    // the margin loss pushes log p(y) at least m below log p(x) for paired rows
    expect(await meanLogp(oe)).toBeLessThan((await meanLogp(flow)) - 0.3);
  });

  it('auto ε = quantile of held-out inlier log p under a plain flow + offset, recorded with the share above ε', async () => {
    const c = small('cf');
    c.eps = { mode: 'auto', quantile: 0.1, offset: -Math.log(10) };
    const det = await fitDetector({ inliers, columns: ['a', 'b'], contrast }, c);
    expect(det.meta.phases.map((p) => p.phase)).toEqual(['auto-ε flow', 'cf']);
    expect(det.eps!.mode).toBe('auto');
    expect(det.eps!.value).toBeCloseTo(det.eps!.heldOutQuantileLogp! - Math.log(10), 6);
    // 2-D unit Gaussian: the 10 % quantile of log p is ≈ −1.84 − ½·χ²₂(0.9) = −4.14
    expect(det.eps!.heldOutQuantileLogp!).toBeGreaterThan(-5);
    expect(det.eps!.heldOutQuantileLogp!).toBeLessThan(-3.3);
    expect(det.eps!.contrastAboveEps!).toBeGreaterThan(0.05);
  });

  it('fixed ε far above every contrast point switches the contrast term off and says so', async () => {
    const c = small('cf');
    c.eps = { mode: 'fixed', value: 50 };
    const det = await fitDetector({ inliers, columns: ['a', 'b'], contrast }, c);
    expect(det.eps!.contrastAboveEps).toBe(0);
    expect(det.meta.notes.join(' ')).toMatch(/contrast term was off/);
  });

  it('MSE-ratio with permutation contrast scores ‖x − μp‖² − ‖x − μq‖²', async () => {
    const det = await fitDetector(
      { inliers, columns: ['a', 'b'], contrast: 'permutation' },
      small('mse-ratio'),
    );
    const s = (await scoreDetector(det, { rows: 1, cols: 2, data: Float32Array.of(1, 1) })).score[0];
    // permuted inliers have the same column means: the two terms nearly cancel
    expect(Math.abs(s)).toBeLessThan(0.05);
  });
});
