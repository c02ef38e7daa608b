/**
 * The paper's toy checks (METHOD §5), through the real detector API on the wasm/tfjs backend.
 * 1D (Fig. 3): inliers N(0,1), contrast N(1, sd 2) (+ an independent N(0,1) dummy coordinate,
 *   since a coupling flow needs D ≥ 2). CF must learn the normalized positive difference
 *   r(x) = C·max(p(x) − q(x), 0); plain Flow must learn p. Distance: total variation
 *   TV(f, g) = ½∫|f − g| dx of the x-marginal, integrated on a grid (the dummy integrated out).
 * 2D (Fig. 4): inliers N([1,1], I), contrast N([0,0], I). Far points beyond the inliers on the
 *   side away from the contrast ([6,6] direction) are caught by CF and missed by Flow-ratio; far
 *   points on the contrast side are caught by both.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import {
  defaultDetectorConfig,
  fitDetector,
  type DetectorConfig,
} from '../../src/main/engine/detector/fitDetector';
import type { Method } from '../../src/main/engine/detector/methods';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { auroc } from '../../src/main/engine/eval/auroc';
import { flowLogProb } from '../../src/main/engine/flow/flowModel';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';

beforeAll(async () => {
  await initTfjs();
});

function gaussian(n: number, mean: number[], sd: number[], seed: number): Matrix {
  const rng = new Rng(seed);
  const d = mean.length;
  const data = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) data[i * d + j] = mean[j] + sd[j] * rng.normal();
  return { rows: n, cols: d, data };
}

function config(method: Method, steps: number, eps = 0): DetectorConfig {
  const c = defaultDetectorConfig(method, 'none');
  c.flow = { ...c.flow, blocks: 6, hidden: 64 };
  c.train = { ...c.train, steps, batchSize: 256, noiseStd: 0, seed: 3 };
  c.eps = { mode: 'fixed', value: eps };
  return c;
}

const normPdf = (x: number, m: number, s: number) =>
  Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

describe('1D toy (paper Fig. 3)', () => {
  const xs: number[] = [];
  for (let x = -7; x <= 9; x += 0.05) xs.push(x);
  const dx = 0.05;
  const p = xs.map((x) => normPdf(x, 0, 1));
  const diff = xs.map((x) => Math.max(normPdf(x, 0, 1) - normPdf(x, 1, 2), 0));
  const z = diff.reduce((a, b) => a + b * dx, 0);
  const target = diff.map((v) => v / z);
  const tv = (f: number[], g: number[]) => 0.5 * f.reduce((a, v, i) => a + Math.abs(v - g[i]) * dx, 0);

  /** learned x-marginal: ∫ p(x, u) du on a grid (u ∈ [−6, 6]) */
  function marginal(model: {
    spec: Parameters<typeof flowLogProb>[0]['spec'];
    params: Parameters<typeof flowLogProb>[0]['params'];
  }): number[] {
    const us: number[] = [];
    for (let u = -6; u <= 6; u += 0.1) us.push(u);
    const grid = new Float32Array(xs.length * us.length * 2);
    let k = 0;
    for (const x of xs)
      for (const u of us) {
        grid[k++] = x;
        grid[k++] = u;
      }
    const lp = flowLogProb(model, { rows: xs.length * us.length, cols: 2, data: grid });
    const out = xs.map((_, i) => {
      let s = 0;
      for (let j = 0; j < us.length; j++) s += Math.exp(lp[i * us.length + j]) * 0.1;
      return s;
    });
    const mass = out.reduce((a, b) => a + b * dx, 0);
    return out.map((v) => v / mass);
  }

  it('CF learns the normalized positive difference C·max(p − q, 0); Flow learns p', async () => {
    const inl = gaussian(100_000, [0, 0], [1, 1], 1);
    const con = gaussian(100_000, [1, 0], [2, 1], 2);
    const cf = await fitDetector(
      { inliers: inl, columns: ['x', 'dummy'], contrast: con },
      config('cf', 1500, -8),
    );
    const flow = await fitDetector(
      { inliers: inl, columns: ['x', 'dummy'], contrast: null },
      config('flow', 800),
    );
    const mCf = marginal(cf.flows[0]);
    const mFlow = marginal(flow.flows[0]);
    const tvCfTarget = tv(mCf, target);
    const tvCfP = tv(mCf, p);
    const tvFlowP = tv(mFlow, p);
    console.log(
      `1D toy: TV(CF, positive difference) = ${tvCfTarget.toFixed(3)}, TV(CF, p) = ${tvCfP.toFixed(3)}, TV(Flow, p) = ${tvFlowP.toFixed(3)}, TV(p, target) = ${tv(p, target).toFixed(3)}`,
    );
    // reference (PyTorch, 3000 steps, H=128): CF 0.047, Flow 0.002; measured here 0.046 / 0.001
    expect(tvCfTarget).toBeLessThan(0.08);
    expect(tvCfTarget).toBeLessThan(tvCfP * 0.6);
    expect(tvFlowP).toBeLessThan(0.02);
    expect(tv(mFlow, target)).toBeGreaterThan(tvCfTarget + 0.1);
  }, 600_000);
});

describe('2D toy (paper Fig. 4)', () => {
  it('far points beyond the inliers are caught by CF and missed by Flow-ratio; the contrast side by both', async () => {
    // large samples stand in for the paper's densities: with a few thousand fixed points both
    // flows of the ratio method overfit and extrapolate the far tails wrongly (measured: 4,000
    // points → learned log q(−4.2, −4.2) = −28 vs true −19.8; 100,000 points → −19.9)
    const inl = gaussian(100_000, [1, 1], [1, 1], 11);
    const con = gaussian(100_000, [0, 0], [1, 1], 12);
    const test = gaussian(500, [1, 1], [1, 1], 13);
    const ring = (from: number, to: number): Matrix => {
      const pts: number[] = [];
      for (let i = 0; i < 50; i++) {
        const a = ((from + ((to - from) * i) / 49) * Math.PI) / 180;
        pts.push(6 * Math.cos(a), 6 * Math.sin(a));
      }
      return { rows: 50, cols: 2, data: Float32Array.from(pts) };
    };
    const upperRight = ring(0, 90);
    const lowerLeft = ring(180, 270);
    const cf = await fitDetector({ inliers: inl, columns: ['a', 'b'], contrast: con }, config('cf', 800, -4));
    const ratio = await fitDetector(
      { inliers: inl, columns: ['a', 'b'], contrast: con },
      config('ratio', 800),
    );
    const aurocOf = async (det: typeof cf, far: Matrix) => {
      const s = [...(await scoreDetector(det, test)).score, ...(await scoreDetector(det, far)).score];
      const labels = [...new Array(test.rows).fill(0), ...new Array(far.rows).fill(1)];
      return auroc(s, labels);
    };
    const r = {
      cfUR: await aurocOf(cf, upperRight),
      ratioUR: await aurocOf(ratio, upperRight),
      cfLL: await aurocOf(cf, lowerLeft),
      ratioLL: await aurocOf(ratio, lowerLeft),
    };
    console.log(
      `2D toy AUROC (inliers vs radius-6 points): upper right CF ${r.cfUR.toFixed(3)} ratio ${r.ratioUR.toFixed(3)}; lower left CF ${r.cfLL.toFixed(3)} ratio ${r.ratioLL.toFixed(3)}`,
    );
    // reference: upper right ratio 0.0, CF 1.0; lower left all 1.0
    expect(r.cfUR).toBeGreaterThan(0.95);
    expect(r.ratioUR).toBeLessThan(0.2);
    expect(r.cfLL).toBeGreaterThan(0.95);
    expect(r.ratioLL).toBeGreaterThan(0.95);
  }, 600_000);
});
