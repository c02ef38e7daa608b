/**
 * Small folders (issue 16): the inlier-count rule's choices, what the user sets winning over it,
 * model selection on the held-out NLL (the best evaluation's parameters are returned), tracking
 * ε, decoupled weight decay (the same in the ONNX Runtime step and in TensorFlow.js), and
 * Flow-ratio's contrast flow trained on fresh permutation samples.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { DetectorConfigSchema, defaultDetectorConfig } from '../../src/main/engine/detector/config';
import { fitDetector, permutationSample } from '../../src/main/engine/detector/fitDetector';
import { applyPreprocessing } from '../../src/main/engine/detector/preprocess';
import {
  applyInlierCountRule,
  columnSpread,
  epsMargin,
  noiseFactor,
  stepsFor,
} from '../../src/main/engine/detector/inlierCountRule';
import { initFlowParams } from '../../src/main/engine/flow/params';
import { makeFlowSpec } from '../../src/main/engine/flow/spec';
import { detectorConfigFor } from '../../src/main/engine/studio/trainOptions';
import { isDecayed } from '../../src/main/engine/train/adam';
import { trackedEps } from '../../src/main/engine/train/epsTracking';
import { cfObjective } from '../../src/main/engine/train/objectives/cf';
import { nllObjective } from '../../src/main/engine/train/objectives/nll';
import { DEFAULT_TRAIN, meanNll, trainFlow, type TrainOptions } from '../../src/main/engine/train/trainer';
import type { Matrix } from '../../src/main/engine/util/matrix';
import { Rng } from '../../src/main/engine/util/rng';
import { relError } from '../helpers/relError';

beforeAll(async () => {
  await initTfjs();
});

/** rows on the unit sphere in `cols` dimensions, around one direction (like L2-normalized features) */
function sphere(rows: number, cols: number, seed: number, spread = 0.5): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    for (let j = 0; j < cols; j++) {
      const v = (j === 0 ? 1 : 0) + spread * rng.normal();
      data[i * cols + j] = v;
      n += v * v;
    }
    for (let j = 0; j < cols; j++) data[i * cols + j] /= Math.sqrt(n);
  }
  return { rows, cols, data };
}

function gaussian(rows: number, cols: number, seed: number, shift = 0): Matrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal() + shift + 0.3 * (i % cols);
  return { rows, cols, data };
}

describe('the inlier-count rule', () => {
  const imageConfig = () => detectorConfigFor('cf', {}, 'l2');

  it('sizes the flow by the inlier count: noise, steps and ε margin per n (D = 128)', () => {
    const rows = (n: number) => {
      const x = sphere(n, 128, n);
      return { x, chosen: applyInlierCountRule(imageConfig(), x), spread: columnSpread(x) };
    };
    const table = [45, 90, 270, 900, 9000].map((n) => ({ n, ...rows(n) }));
    for (const { n, x, chosen, spread } of table) {
      const c = chosen.config;
      expect(c.flow.hidden).toBe(128);
      expect(c.flow.blocks).toBe(4);
      expect(c.train.steps).toBe(stepsFor(n, 256));
      expect(c.train.noiseStd).toBeCloseTo(noiseFactor(n / 128) * spread, 2);
      expect(c.train.evalEvery).toBe(Math.max(10, Math.round(c.train.steps / 20)));
      expect(c.eps).toEqual({
        mode: 'tracking',
        quantile: 0.5,
        margin: +epsMargin(n).toFixed(1),
        minContrastShare: 0.01,
      });
      expect(c.oe.steps).toBe(Math.round(c.train.steps / 2));
      expect(chosen.note).toContain(`(${n} training inliers, 128 features)`);
      expect(chosen.note).toContain(`steps=${c.train.steps}`);
      expect(chosen.note).toContain(`noise=${c.train.noiseStd}`);
      expect(x.rows).toBe(n);
    }
    // the numbers the rule was derived from (docs/small-folders.md)
    expect(table.map((t) => t.chosen.config.train.steps)).toEqual([300, 300, 316, 1055, 2000]);
    expect(table.map((t) => +noiseFactor(t.n / 128).toFixed(2))).toEqual([1.9, 1.9, 1.5, 1.17, 0.72]);
    expect(table.map((t) => +epsMargin(t.n).toFixed(1))).toEqual([0, 0, 8.6, 19.1, 20]);
    expect(table[0].chosen.note).toMatch(/^small folder \(45 training inliers/);
    expect(table[4].chosen.note).toMatch(/^inlier-count rule \(9000 training inliers/);
  });

  it('keeps every setting the user gave, and says so', () => {
    const c = detectorConfigFor(
      'cf',
      { hidden: 512, blocks: 8, steps: 1000, noise: 0.01, eps: 0, seed: 3 },
      'l2',
    );
    expect(c.sizing).toEqual({
      rule: 'inlier-count',
      userSet: ['hidden', 'blocks', 'steps', 'noise', 'eps'],
    });
    const { config, note } = applyInlierCountRule(c, sphere(90, 128, 1));
    expect(config.flow).toMatchObject({ hidden: 512, blocks: 8 });
    expect(config.train).toMatchObject({ steps: 1000, noiseStd: 0.01, seed: 3 });
    expect(config.eps).toEqual({ mode: 'fixed', value: 0 });
    expect(note).toContain('kept your hidden, blocks, steps, noise, eps');
    // 'none' keeps the engine's fixed defaults: fitDetector does not apply the rule
    expect(detectorConfigFor('cf', { sizing: 'none' }, 'l2').sizing.rule).toBe('none');
  });

  it('reads records made before the rule as unsized, with no weight decay and the last parameters', () => {
    const old = JSON.parse(JSON.stringify(defaultDetectorConfig('cf', 'l2')));
    delete old.sizing;
    delete old.train.weightDecay;
    delete old.train.restoreBest;
    const parsed = DetectorConfigSchema.parse(old);
    expect(parsed.sizing).toEqual({ rule: 'none', userSet: [] });
    expect(parsed.train).toMatchObject({ weightDecay: 0, restoreBest: false });
  });

  it('is applied once by fitDetector, recorded in the detector config and its notes', async () => {
    const inliers = gaussian(60, 4, 1);
    const cfg = detectorConfigFor('flow', { steps: 20, seed: 1 }, 'standardize');
    const det = await fitDetector({ inliers, columns: ['a', 'b', 'c', 'd'], contrast: null }, cfg);
    expect(det.meta.config.sizing.rule).toBe('inlier-count');
    expect(det.meta.config.train.steps).toBe(20); // the user's
    expect(det.meta.config.flow.hidden).toBe(128); // the rule's
    expect(det.meta.config.train.noiseStd).toBeGreaterThan(0.1);
    expect(
      det.meta.notes.filter((n) => n.startsWith('small folder (54 training inliers, 4 features)')),
    ).toHaveLength(1);
    expect(det.meta.phases[0].steps).toBe(20);
  }, 60_000);
});

describe('tracking ε', () => {
  it('is the held-out median minus the margin, lowered when fewer than ρ of the contrast would be above — not below every inlier', () => {
    const held = [10, 20, 30, 40, 50];
    const rule = { quantile: 0.5, margin: 5, minContrastShare: 0.1 };
    expect(trackedEps(rule, held, [0, 26, 27])).toBe(25);
    // every contrast point below 25: ε drops to the contrast's top 10 %
    const contrast = Array.from({ length: 101 }, (_, i) => 5 + i / 10); // 5 … 15
    expect(trackedEps(rule, held, contrast)).toBeCloseTo(14, 6);
    // contrast far below every inlier: ε stops at the lowest inlier − Δ (no push without bound)
    expect(trackedEps(rule, held, [-900, -800, -700])).toBe(5);
  });

  /** a two-cluster table; contrast = broad rows and inlier-like rows, half each */
  function mixture(rows: number, seed: number, broad: boolean): Matrix {
    const rng = new Rng(seed);
    const data = new Float32Array(rows * 8);
    for (let i = 0; i < rows; i++)
      for (let j = 0; j < 8; j++)
        data[i * 8 + j] = broad ? 3 * rng.normal() : (j === 0 ? (i % 2 ? 2 : -2) : 0) + 0.3 * rng.normal();
    return { rows, cols: 8, data };
  }

  it('follows the flow during training and keeps the contrast term working', async () => {
    const spec = makeFlowSpec(8, { blocks: 4, hidden: 32 }, 1);
    const broad = mixture(500, 3, true);
    const near = mixture(500, 4, false);
    const contrast: Matrix = { rows: 1000, cols: 8, data: new Float32Array([...broad.data, ...near.data]) };
    const r = await trainFlow({
      spec,
      objective: cfObjective,
      inliers: mixture(400, 1, false),
      heldOut: mixture(60, 2, false),
      contrast,
      eps: 1e6, // ignored: ε tracks
      epsTracking: { quantile: 0.5, margin: 2, minContrastShare: 0.01 },
      config: { ...DEFAULT_TRAIN, steps: 120, batchSize: 64, evalEvery: 20, noiseStd: 0.01, seed: 2 },
      init: initFlowParams(spec, 2),
      dataInit: true,
      progressEvery: 1,
    });
    const evals = r.history.filter((p) => p.eps !== undefined);
    expect(evals.map((p) => p.step)).toEqual([20, 40, 60, 80, 100]);
    expect(new Set(evals.map((p) => p.eps)).size).toBe(5); // it moves with the flow
    expect(r.eps).toBe(evals.at(-1)!.eps);
    expect(Math.abs(r.eps!)).toBeLessThan(50); // near the inliers' log p, not at the 1e6 given
    // contrast points are above ε in every batch: the term never switches off
    expect(Math.min(...r.history.map((p) => p.contrastAboveEps))).toBeGreaterThan(0);
    expect(r.contrastAboveEps).toBeGreaterThan(0.05);
  }, 60_000);
});

describe('model selection on the held-out NLL', () => {
  function overfitting(over: Partial<TrainOptions> = {}): TrainOptions {
    // 24 training rows, a wide flow, almost no noise: the held-out NLL falls, then rises
    const spec = makeFlowSpec(8, { blocks: 4, hidden: 96 }, 3);
    return {
      spec,
      objective: nllObjective,
      inliers: gaussian(24, 8, 5),
      heldOut: gaussian(200, 8, 6),
      contrast: null,
      config: {
        ...DEFAULT_TRAIN,
        steps: 400,
        batchSize: 24,
        evalEvery: 20,
        noiseStd: 0.001,
        lr: 3e-3,
        seed: 4,
      },
      init: initFlowParams(spec, 4),
      dataInit: true,
      ...over,
    };
  }

  it('returns the parameters of the best evaluation when the held-out NLL rises later', async () => {
    const o = overfitting({ config: { ...overfitting().config, restoreBest: true } });
    const r = await trainFlow(o);
    const evals = r.history.filter((p) => p.heldOutNll !== null);
    const best = evals.reduce((a, b) => (b.heldOutNll! < a.heldOutNll! ? b : a));
    // the curve does rise after its best point (the test is not vacuous)
    expect(evals.at(-1)!.heldOutNll!).toBeGreaterThan(best.heldOutNll! + 1);
    expect(r.bestStep).toBe(best.step);
    expect(r.bestStep).toBeLessThan(r.steps);
    expect(r.stoppedEarly).toBe(false);
    expect(r.finalHeldOutNll).toBeCloseTo(best.heldOutNll!, 4);
    // the returned parameters are that step's: their held-out NLL is the best one
    expect(meanNll({ spec: o.spec, params: r.params }, o.heldOut!)).toBeCloseTo(best.heldOutNll!, 3);
    // without restoreBest the last step's parameters come back
    const last = await trainFlow(overfitting());
    expect(last.bestStep).toBe(last.steps);
    expect(meanNll({ spec: o.spec, params: last.params }, o.heldOut!)).toBeCloseTo(
      evals.at(-1)!.heldOutNll!,
      3,
    );
  }, 120_000);
});

describe('weight decay', () => {
  it('decays the subnet weights only', () => {
    expect(['b0.w1', 'b3.w2', 'b7.w3'].every(isDecayed)).toBe(true);
    expect(['b0.b1', 'b0.gamma', 'b0.beta', 'b2.b3'].some(isDecayed)).toBe(false);
  });

  const withDecay = (trainBackend: 'ort' | 'tfjs', weightDecay: number, hidden = 32): TrainOptions => {
    const spec = makeFlowSpec(6, { blocks: 2, hidden, lastLayerInit: 'scaled' }, 4);
    return {
      spec,
      objective: cfObjective,
      inliers: gaussian(300, 6, 11),
      heldOut: gaussian(50, 6, 12),
      contrast: gaussian(300, 6, 13, 1),
      eps: -9,
      config: { ...DEFAULT_TRAIN, steps: 60, batchSize: 64, evalEvery: 30, seed: 5, weightDecay },
      init: initFlowParams(spec, 5),
      dataInit: true,
      progressEvery: 1,
      trainBackend,
    };
  };

  it('gives the same CF run in ONNX Runtime and TensorFlow.js', async () => {
    // hidden 32: every weight is in the flat state group (a 0/1 mask over it)
    const a = await trainFlow(withDecay('ort', 5));
    const b = await trainFlow(withDecay('tfjs', 5));
    expect(a.backend).toBe('ort-cpu');
    a.history.forEach((p, i) =>
      expect(Math.abs(p.loss - b.history[i].loss), `step ${p.step}`).toBeLessThan(
        1e-4 * Math.max(1, Math.abs(b.history[i].loss)),
      ),
    );
    for (const [k, v] of Object.entries(b.params)) expect(relError(a.params[k], v), k).toBeLessThan(1e-3);
  }, 60_000);

  it('is the same for a weight that is a state group of its own (H = 384: w2 alone)', async () => {
    // 3 steps: larger products drift by float32 rounding over long runs, with or without decay
    const three = (backend: 'ort' | 'tfjs', wd: number) => {
      const o = withDecay(backend, wd, 384);
      return trainFlow({ ...o, config: { ...o.config, steps: 3 } });
    };
    const [a, b, a0] = [await three('ort', 50), await three('tfjs', 50), await three('ort', 0)];
    for (const [k, v] of Object.entries(b.params)) expect(relError(a.params[k], v), k).toBeLessThan(1e-3);
    // the decay did act on w2 (the comparison is not vacuous)
    expect(relError(a.params['b0.w2'], a0.params['b0.w2'])).toBeGreaterThan(1e-3);
  }, 60_000);

  it('shrinks the weights and leaves the global affine to the data', async () => {
    const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    for (const backend of ['ort', 'tfjs'] as const) {
      const free = await trainFlow(withDecay(backend, 0));
      const decayed = await trainFlow(withDecay(backend, 50));
      expect(norm(decayed.params['b0.w2'])).toBeLessThan(0.97 * norm(free.params['b0.w2']));
      expect(relError(decayed.params['b0.gamma'], free.params['b0.gamma'])).toBeLessThan(0.2);
    }
  }, 120_000);
});

describe('Flow-ratio with permutation contrast', () => {
  it('trains its contrast flow on fresh samples of the product of the marginals, not on a fixed sample', async () => {
    // a small table: a fixed sample of the marginals' product is memorised by qφ (the cause of
    // Flow-ratio's 2 % AUROC on thyroid); fresh samples in every batch make qφ generalise to
    // new product samples
    const inliers = gaussian(60, 3, 21);
    const cfg = defaultDetectorConfig('ratio');
    cfg.flow = { ...cfg.flow, hidden: 128, blocks: 4 };
    cfg.train = { ...cfg.train, steps: 600, batchSize: 128, noiseStd: 0.01, seed: 1 };
    const det = await fitDetector({ inliers, columns: ['a', 'b', 'c'], contrast: 'permutation' }, cfg);
    const q = det.flows.find((f) => f.role === 'contrast')!;
    const x = applyPreprocessing(det.preprocessing, inliers, 'the inliers');
    const fresh = permutationSample(x, 4000, new Rng(9));
    // the old way: qφ on one fixed sample of the product
    const fixed = permutationSample(x, 256, new Rng(10));
    const old = await trainFlow({
      spec: q.spec,
      objective: nllObjective,
      inliers: fixed,
      heldOut: null,
      contrast: null,
      config: cfg.train,
      init: initFlowParams(q.spec, 2),
      dataInit: true,
    });
    const gap = (nllOnTrain: number, params: typeof q.params) =>
      meanNll({ spec: q.spec, params }, fresh) - nllOnTrain;
    const oldGap = gap(meanNll({ spec: q.spec, params: old.params }, fixed), old.params);
    const newGap = gap(meanNll(q, permutationSample(x, 4000, new Rng(11))), q.params);
    expect(oldGap).toBeGreaterThan(1); // memorised: new product samples are much less likely
    expect(newGap).toBeLessThan(0.25);
  }, 120_000);
});
