import { describe, it, expect } from 'vitest';
import { auroc } from '../../src/main/engine/eval/auroc';
import { rocCurve } from '../../src/main/engine/eval/roc';
import { histograms } from '../../src/main/engine/eval/histogram';
import { quantile, mean, std, meanStd } from '../../src/main/engine/util/stats';
import { fig5Picks } from '../../src/main/engine/eval/fig5Picks';
import { histogramRange } from '../../src/main/engine/eval/histogram';
import { UserError } from '../../src/main/engine/util/errors';
import { Rng } from '../../src/main/engine/util/rng';

/** P(s_pos > s_neg) + ½ P(equal), by counting all pairs. */
function bruteAuroc(scores: number[], labels: number[]): number {
  let num = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      if (scores[i] > scores[j]) num += 1;
      else if (scores[i] === scores[j]) num += 0.5;
    }
  }
  return num / pairs;
}

function trapezoid(x: number[], y: number[]): number {
  let a = 0;
  for (let i = 1; i < x.length; i++) a += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return a;
}

describe('auroc', () => {
  it('matches hand-computed values', () => {
    // sklearn's docstring example: 3 of 4 pairs ordered correctly
    expect(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    // pairs (pos 2,3 × neg 1,2): 1 + ½ + 1 + 1 = 3.5 of 4
    expect(auroc([1, 2, 2, 3], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
    // pos {5, 5}, neg {5, 1, 7}: (½ + 1 + 0)·2 = 3 of 6
    expect(auroc([5, 5, 5, 1, 7], [1, 1, 0, 0, 0])).toBeCloseTo(0.5, 12);
  });

  it('all-equal scores give 0.5', () => {
    expect(auroc([3, 3, 3, 3, 3], [1, 0, 0, 1, 0])).toBe(0.5);
  });

  it('perfect and inverted rankings give 1 and 0', () => {
    expect(auroc([1, 2, 3, 10, 11], [0, 0, 0, 1, 1])).toBe(1);
    expect(auroc([10, 11, 12, 1, 2], [0, 0, 0, 1, 1])).toBe(0);
  });

  it('accepts boolean labels and infinite scores', () => {
    expect(auroc([0, 1, Infinity, -Infinity], [false, true, true, false])).toBe(1);
    expect(auroc([Infinity, Infinity, 0], [true, false, false])).toBeCloseTo(0.75, 12);
  });

  it('agrees with a brute-force pair count on random data with ties', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 20 + rng.int(200);
      const scores: number[] = [];
      const labels: number[] = [];
      for (let i = 0; i < n; i++) {
        const y = rng.next() < 0.3 ? 1 : 0;
        // coarse rounding makes many ties
        scores.push(Math.round((rng.normal() + y) * 4) / 4);
        labels.push(y);
      }
      if (!labels.includes(0) || !labels.includes(1)) continue;
      expect(auroc(scores, labels)).toBeCloseTo(bruteAuroc(scores, labels), 12);
      expect(auroc(Float32Array.from(scores), labels)).toBeCloseTo(bruteAuroc(scores, labels), 6);
    }
  });

  it('rejects one-class inputs, NaN scores, bad labels and length mismatch', () => {
    expect(() => auroc([1, 2, 3], [0, 0, 0])).toThrow(UserError);
    expect(() => auroc([1, 2, 3], [1, 1, 1])).toThrow(/both classes/);
    expect(() => auroc([], [])).toThrow(UserError);
    expect(() => auroc([1, NaN, 3], [0, 1, 1])).toThrow(/NaN/);
    expect(() => auroc([1, 2, 3], [0, 2, 1])).toThrow(UserError);
    expect(() => auroc([1, 2], [0, 1, 1])).toThrow(UserError);
  });
});

describe('rocCurve', () => {
  it('matches the hand-computed curve', () => {
    const r = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(r.thresholds).toEqual([Infinity, 0.8, 0.4, 0.35, 0.1]);
    expect(r.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(r.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
  });

  it('collapses ties to one point', () => {
    const r = rocCurve([2, 2, 2, 1], [1, 0, 0, 1]);
    expect(r.thresholds).toEqual([Infinity, 2, 1]);
    expect(r.tpr).toEqual([0, 0.5, 1]);
    expect(r.fpr).toEqual([0, 1, 1]);
    const flat = rocCurve([3, 3, 3], [1, 0, 1]);
    expect(flat.fpr).toEqual([0, 1]);
    expect(flat.tpr).toEqual([0, 1]);
  });

  it('runs (0,0) → (1,1) monotonically with one point per distinct score; area = AUROC', () => {
    const rng = new Rng(3);
    const scores: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 500; i++) {
      const y = i % 3 === 0 ? 1 : 0;
      scores.push(Math.round((rng.normal() + 1.2 * y) * 10) / 10);
      labels.push(y);
    }
    const r = rocCurve(scores, labels);
    const distinct = new Set(scores).size;
    expect(r.fpr.length).toBe(distinct + 1);
    expect(r.tpr.length).toBe(distinct + 1);
    expect(r.thresholds.length).toBe(distinct + 1);
    expect([r.fpr[0], r.tpr[0]]).toEqual([0, 0]);
    expect([r.fpr[distinct], r.tpr[distinct]]).toEqual([1, 1]);
    for (let i = 1; i <= distinct; i++) {
      expect(r.fpr[i]).toBeGreaterThanOrEqual(r.fpr[i - 1]);
      expect(r.tpr[i]).toBeGreaterThanOrEqual(r.tpr[i - 1]);
      expect(r.thresholds[i]).toBeLessThan(r.thresholds[i - 1]);
      // each point moves: at least one sample has that score
      expect(r.fpr[i] + r.tpr[i]).toBeGreaterThan(r.fpr[i - 1] + r.tpr[i - 1]);
    }
    expect(trapezoid(r.fpr, r.tpr)).toBeCloseTo(auroc(scores, labels), 12);
  });

  it('needs both classes', () => {
    expect(() => rocCurve([1, 2], [1, 1])).toThrow(UserError);
  });
});

describe('stats', () => {
  it('quantile matches numpy linear interpolation', () => {
    // np.quantile([1,2,3,4], [0, .25, .5, 1]) = [1, 1.75, 2.5, 4]
    expect(quantile([4, 1, 3, 2], 0)).toBe(1);
    expect(quantile([4, 1, 3, 2], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([4, 1, 3, 2], 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile([4, 1, 3, 2], 1)).toBe(4);
    // sorted [1,2,3,7,10], h = 0.9·4 = 3.6 → 7 + 0.6·3 = 8.8
    expect(quantile([3, 1, 2, 10, 7], 0.9)).toBeCloseTo(8.8, 12);
    // h = 0.1·4 = 0.4 → 1 + 0.4·1 = 1.4
    expect(quantile(Float32Array.from([3, 1, 2, 10, 7]), 0.1)).toBeCloseTo(1.4, 6);
    // negative numbers sort numerically: sorted [-10, -2, 5], h = 0.75·2 = 1.5 → 1.5
    expect(quantile([5, -10, -2], 0.75)).toBeCloseTo(1.5, 12);
    expect(quantile([42], 0.3)).toBe(42);
  });

  it('quantile rejects bad input', () => {
    expect(() => quantile([], 0.5)).toThrow(UserError);
    expect(() => quantile([1, 2], 1.5)).toThrow(UserError);
    expect(() => quantile([1, NaN], 0.5)).toThrow(UserError);
  });

  it('mean and population std', () => {
    const v = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(v)).toBe(5);
    expect(std(v)).toBeCloseTo(2, 12);
    expect(meanStd(v)).toEqual({ mean: 5, std: 2 });
    expect(std([3])).toBe(0);
    expect(() => mean([])).toThrow(UserError);
  });
});

describe('histograms', () => {
  it('uses shared edges over all finite scores and counts non-finite separately', () => {
    const h = histograms(
      [
        { name: 'train', scores: [0, 1, 2, 3] },
        { name: 'anomaly', scores: [10, 9.99, NaN, Infinity, -Infinity, 5] },
      ],
      4,
    );
    expect(h.edges).toEqual([0, 2.5, 5, 7.5, 10]);
    expect(h.groups[0]).toEqual({ name: 'train', counts: [3, 1, 0, 0], n: 4, nonFinite: 0 });
    // 5 is on an edge → bin 2; the max 10 goes into the last bin
    expect(h.groups[1]).toEqual({ name: 'anomaly', counts: [0, 0, 1, 2], n: 6, nonFinite: 3 });
  });

  it('counts add up on random data and every score sits inside its bin', () => {
    const rng = new Rng(11);
    const a = Array.from({ length: 1000 }, () => rng.normal());
    const b = Array.from({ length: 300 }, () => 3 + 2 * rng.normal());
    const h = histograms([
      { name: 'a', scores: a },
      { name: 'b', scores: Float32Array.from(b) },
    ]);
    expect(h.edges.length).toBe(51);
    expect(h.groups[0].counts.reduce((s, c) => s + c, 0)).toBe(1000);
    expect(h.groups[1].counts.reduce((s, c) => s + c, 0)).toBe(300);
    expect(h.edges[0]).toBe(Math.min(...a, ...Float32Array.from(b)));
    expect(h.edges[50]).toBe(Math.max(...a, ...Float32Array.from(b)));
    // recount group a by brute force
    const counts = new Array(50).fill(0);
    for (const v of a) {
      let bin = 49;
      for (let i = 0; i < 50; i++) {
        if (v >= h.edges[i] && v < h.edges[i + 1]) {
          bin = i;
          break;
        }
      }
      counts[bin]++;
    }
    expect(h.groups[0].counts).toEqual(counts);
  });

  it('handles constant and all-non-finite inputs', () => {
    const c = histograms([{ name: 'c', scores: [2, 2, 2] }], 3);
    expect(c.edges[0]).toBeLessThan(2);
    expect(c.edges[3]).toBeGreaterThan(2);
    expect(c.groups[0].counts.reduce((s, x) => s + x, 0)).toBe(3);
    const nf = histograms([{ name: 'x', scores: [NaN, Infinity] }], 2);
    expect(nf.groups[0]).toEqual({ name: 'x', counts: [0, 0], n: 2, nonFinite: 2 });
    expect(() => histograms([{ name: 'x', scores: [1] }], 0)).toThrow(UserError);
  });

  it('a given range: scores outside it go to the first or last bin', () => {
    const h = histograms([{ name: 'a', scores: [-5, 0, 1, 2.5, 3.9, 4, 100] }], 4, { lo: 0, hi: 4 });
    expect(h.edges).toEqual([0, 1, 2, 3, 4]);
    // -5 → first bin; 4 (= hi) and 100 (above) → last bin
    expect(h.groups[0].counts).toEqual([2, 1, 1, 3]);
    expect(() => histograms([{ name: 'a', scores: [1] }], 4, { lo: 2, hi: 1 })).toThrow(UserError);
  });
});

describe('histogramRange (the app’s display range)', () => {
  it('cuts a long upper tail at the 99th percentile, keeps a short one', () => {
    const base = Array.from({ length: 1000 }, (_, i) => i / 1000);
    expect(histogramRange(base)).toEqual({ lo: 0, clippedAbove: null });
    const tail = [...base.slice(0, 995), 50, 60, 70, 80, 90];
    const r = histogramRange(tail);
    expect(r.lo).toBe(0);
    expect(r.clippedAbove).toBeCloseTo(0.989, 3);
    expect(histogramRange([1, 2, 3]).clippedAbove).toBeNull();
  });
});

describe('fig5Picks (paper Figure 5)', () => {
  it('picks the 3 lowest inliers, the 3 lowest anomalies and the 3 highest inliers, ties by index', () => {
    //               0    1    2    3    4    5    6    7    8    9   10   11
    const scores = [5.0, 1.0, 2.0, 9.0, 1.0, 7.0, 0.5, 3.0, 8.0, 6.0, 2.5, 4.0];
    const isAnom = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    const p = fig5Picks(scores, isAnom);
    const of = (g: string) => p.filter((x) => x.group === g).map((x) => [x.rank, x.index, x.score]);
    expect(of('lowest-inlier')).toEqual([
      [1, 1, 1.0],
      [2, 4, 1.0],
      [3, 2, 2.0],
    ]);
    expect(of('hardest-anomaly')).toEqual([
      [1, 6, 0.5],
      [2, 10, 2.5],
      [3, 7, 3.0],
    ]);
    expect(of('strangest-inlier')).toEqual([
      [1, 3, 9.0],
      [2, 5, 7.0],
      [3, 0, 5.0],
    ]);
  });

  it('returns fewer picks when a group is small', () => {
    const p = fig5Picks([1, 2, 3], [0, 1, 0], 3);
    expect(p.filter((x) => x.group === 'hardest-anomaly')).toHaveLength(1);
    expect(p.filter((x) => x.group === 'lowest-inlier').map((x) => x.index)).toEqual([0, 2]);
  });
});
