// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { LossPoint, RocCurve, ScoreDistribution } from '../../src/shared/ipc';
import {
  cdfAt,
  distributionModel,
  distributionOption,
  estimateThreshold,
  mixtureCdf,
  mixtureOf,
} from '../../src/renderer/src/charts/distribution';
import { ABOVE_EPS_SERIES, lossChartOption } from '../../src/renderer/src/charts/loss';
import {
  chooseSymlogAxis,
  formatTick,
  percentileAt,
  symlog,
  symlogInverse,
  symlogTicks,
} from '../../src/renderer/src/charts/scoreAxis';
import { withMotion } from '../../src/renderer/src/charts/motion';
import { rocOption } from '../../src/renderer/src/charts/roc';
import type { ChartOption } from '../../src/renderer/src/charts/types';

type Series = {
  name: string;
  type: string;
  data: [number, number][];
  color?: string;
  yAxisIndex?: number;
  markLine?: { data: { xAxis: number }[] };
};
const seriesOf = (o: ChartOption): Series[] => o.series as unknown as Series[];

describe('lossChartOption', () => {
  it('draws inlier and contrast NLL against step', () => {
    const points: LossPoint[] = [
      { step: 0, inlierNll: 3.2, contrastNll: 3.1 },
      { step: 10, inlierNll: 2.5, contrastNll: 4.0 },
      { step: 20, inlierNll: 1.9, contrastNll: 5.5 },
    ];
    const series = seriesOf(lossChartOption(points));
    expect(series.map((s) => s.name)).toEqual(['inlier NLL', 'contrast NLL']);
    expect(series[0].data).toEqual([
      [0, 3.2],
      [10, 2.5],
      [20, 1.9],
    ]);
    expect(series[1].data[2]).toEqual([20, 5.5]);
  });

  it('draws the share of contrast above ε (CF) in % on a second axis from 0 to 100 %', () => {
    const option = lossChartOption([
      { step: 10, inlierNll: 2, contrastNll: 3, contrastAboveEps: 0.8 },
      { step: 20, inlierNll: 1.5, contrastNll: 4, contrastAboveEps: 0.25 },
      { step: 30, inlierNll: 1.4, contrastNll: 4.2, contrastAboveEps: null },
    ]);
    const series = seriesOf(option);
    const above = series.find((s) => s.name === ABOVE_EPS_SERIES)!;
    expect(above.yAxisIndex).toBe(1);
    expect(above.data).toEqual([
      [10, 80],
      [20, 25],
    ]);
    const axes = option.yAxis as { name: string; min?: number; max?: number; nameLocation: string }[];
    expect(axes).toHaveLength(2);
    expect(axes[1]).toMatchObject({ min: 0, max: 100, name: 'contrast above ε' });
    // axis names sit beside their axes, never in the legend's row
    for (const a of axes) expect(a.nameLocation).toBe('middle');
    expect((option.legend as { top: number }).top).toBe(0);
  });

  it('leaves out the contrast curve for methods without contrast', () => {
    const series = seriesOf(
      lossChartOption([
        { step: 1, inlierNll: 2, contrastNll: null },
        { step: 2, inlierNll: 1.5, contrastNll: null },
      ]),
    );
    expect(series.map((s) => s.name)).toEqual(['inlier NLL']);
  });
});

describe('rocOption', () => {
  const roc: RocCurve = { fpr: [0, 0.1, 0.4, 1], tpr: [0, 0.6, 0.9, 1], auroc: 0.9183 };

  it('plots (fpr, tpr) pairs, names the AUROC and adds the chance line', () => {
    const [curve, chance] = seriesOf(rocOption(roc));
    expect(curve.data).toEqual([
      [0, 0],
      [0.1, 0.6],
      [0.4, 0.9],
      [1, 1],
    ]);
    expect(curve.name).toBe('ROC (AUROC 91.8 %)');
    expect(chance.data).toEqual([
      [0, 0],
      [1, 1],
    ]);
  });
});

describe('withMotion', () => {
  it('turns animation off when reduced motion is asked for', () => {
    expect(withMotion({ series: [] }, true).animation).toBe(false);
    expect(withMotion({ series: [] }, false).animation).toBe(true);
  });
});

describe('ROC tooltip', () => {
  it('reads FPR and TPR of the hovered point', () => {
    const tooltip = rocOption({ fpr: [0, 0.1, 1], tpr: [0, 0.6, 1], auroc: 0.8 }).tooltip as {
      formatter: (p: { value: number[] }[]) => string;
    };
    expect(tooltip.formatter([{ value: [0.1, 0.6] }])).toBe('FPR 10 % · TPR 60 %');
  });
});

// ------------------------------------------------------------------ distributions (Fig. 1/8)

/** 101 percentiles of a uniform distribution on [lo, hi] */
const uniform = (lo: number, hi: number) => Array.from({ length: 101 }, (_, p) => lo + ((hi - lo) * p) / 100);
/** 101 percentiles with a long upper tail: the bulk on [lo, hi], the top 1 % up to `tail` */
const tailed = (lo: number, hi: number, tail: number) => [...uniform(lo, hi).slice(0, 100), tail];

const dists: ScoreDistribution[] = [
  { group: 'inliers (held-out)', anomaly: false, count: 100, percentiles: uniform(0, 10) },
  { group: 'contrast: cat', anomaly: true, count: 300, percentiles: uniform(20, 40) },
  { group: 'contrast: dog', anomaly: true, count: 100, percentiles: tailed(40, 60, 2900) },
];

describe('symlog score axis', () => {
  const axis = { center: 25, scale: 10 };

  it('is monotone, odd around its centre, and inverted exactly', () => {
    const xs = [-5000, -100, -3, 0, 14.9, 25, 25.001, 31, 400, 2900, 1e6];
    const us = xs.map((x) => symlog(x, axis));
    for (let i = 1; i < us.length; i++) expect(us[i]).toBeGreaterThan(us[i - 1]);
    expect(symlog(25, axis)).toBe(0);
    expect(symlog(35, axis)).toBeCloseTo(-symlog(15, axis), 12);
    for (const x of xs) expect(symlogInverse(symlog(x, axis), axis)).toBeCloseTo(x, 6);
    // nearly linear in the bulk, logarithmic in the tail
    expect(symlog(26, axis) - symlog(25, axis)).toBeCloseTo(Math.log10(1.1), 12);
    expect(symlog(2900, axis)).toBeLessThan(2.5);
  });

  it('centres on the inliers: their median, their interquartile range as the linear scale', () => {
    const all = dists.map((d) => d.percentiles);
    expect(chooseSymlogAxis(uniform(0, 10), all)).toEqual({ center: 5, scale: 5 });
    // without inliers: the middle half of all groups (lowest first quartile 2.5, highest third 55)
    const a = chooseSymlogAxis(null, all);
    expect(a.center).toBeCloseTo((2.5 + 55) / 2, 9);
    expect(a.scale).toBeCloseTo((55 - 2.5) / 2, 9);
    expect(chooseSymlogAxis(null, [])).toEqual({ center: 0, scale: 1 });
    // all inlier scores equal: a hundredth of the whole range; all scores equal: still usable
    expect(chooseSymlogAxis(uniform(3, 3), [uniform(3, 3), uniform(0, 100)]).scale).toBe(1);
    expect(chooseSymlogAxis(uniform(3, 3), [uniform(3, 3)]).scale).toBeGreaterThan(0);
  });

  it('gives round ticks in order, the centre among them, none off the axis', () => {
    const a = { center: -134, scale: 529 };
    const [uMin, uMax] = [symlog(-260, a), symlog(10_500, a)];
    const ticks = symlogTicks(a, uMin, uMax);
    expect(ticks.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]).toBeGreaterThan(ticks[i - 1]);
    for (const t of ticks) {
      expect(symlog(t, a)).toBeGreaterThanOrEqual(uMin);
      expect(symlog(t, a)).toBeLessThanOrEqual(uMax);
      expect(formatTick(t).length).toBeLessThanOrEqual(5);
    }
    // the inliers' median is labelled, rounded to a round score near it
    expect(ticks.some((t) => Math.abs(t - -134) <= 50)).toBe(true);
  });

  it('reads percentiles and formats ticks', () => {
    expect(percentileAt(uniform(0, 10), 50)).toBe(5);
    expect(percentileAt(uniform(0, 10), 97.5)).toBeCloseTo(9.75, 12);
    expect(formatTick(12_345)).toBe('12.3k');
    expect(formatTick(2900)).toBe('2900');
    expect(formatTick(-0.123456)).toBe('-0.123');
  });
});

describe('distributionModel', () => {
  it('takes a group’s CDF as linear between its percentiles', () => {
    const p = uniform(0, 10);
    expect(cdfAt(p, -1)).toBe(0);
    expect(cdfAt(p, 2.5)).toBeCloseTo(0.25, 12);
    expect(cdfAt(p, 10)).toBe(1);
    // repeated values (a point mass) jump at once
    expect(cdfAt([0, 0, 0, 1, 2], 0)).toBeCloseTo(0.5, 12);
  });

  it('combines the anomaly groups weighted by their counts', () => {
    const parts = mixtureOf(dists.filter((d) => d.anomaly));
    expect(parts.map((p) => p.weight)).toEqual([0.75, 0.25]);
    // at 40 all of cat (300) and none of dog (100): 75 %
    expect(mixtureCdf(parts, 40)).toBeCloseTo(0.75, 12);
    const model = distributionModel(dists)!;
    expect(model.series.map((s) => [s.name, s.count, s.anomaly])).toEqual([
      ['inliers (held-out)', 100, false],
      ['anomalies (2 groups)', 400, true],
    ]);
    const anomalies = model.series[1];
    // the combined curve's mass below 40 is cat's share of the anomalies
    const below40 = anomalies.points.filter(([u]) => symlogInverse(u, model.axis) < 40);
    const mass = below40.reduce((a, [, m]) => a + m, 0);
    expect(mass).toBeGreaterThan(0.72);
    expect(mass).toBeLessThan(0.78);
    for (const s of model.series) expect(s.points.reduce((a, [, m]) => a + m, 0)).toBeCloseTo(1, 9);
  });

  it('spans every group, the tail included, and keeps the axis when groups are hidden or split', () => {
    const model = distributionModel(dists)!;
    expect(symlogInverse(model.uMax, model.axis)).toBeGreaterThanOrEqual(2900);
    expect(symlogInverse(model.uMin, model.axis)).toBeLessThanOrEqual(0);
    const hidden = distributionModel(dists, { hidden: new Set(['contrast: dog']) })!;
    expect(hidden.series.map((s) => s.name)).toEqual(['inliers (held-out)', 'contrast: cat']);
    expect([hidden.uMin, hidden.uMax]).toEqual([model.uMin, model.uMax]);
    const split = distributionModel(dists, { split: true })!;
    expect(split.series.map((s) => s.name)).toEqual(dists.map((d) => d.group));
    expect(distributionModel([])).toBeNull();
  });

  it('says what centres the axis: the inliers, the scores of an unlabelled list, or all groups', () => {
    expect(distributionModel(dists)!.centredOn).toBe('inliers');
    const scored = [{ group: 'horse', anomaly: false, count: 1000, percentiles: tailed(0, 50, 900) }];
    const model = distributionModel(scored)!;
    expect(model.centredOn).toBe('scores');
    expect(model.axis).toEqual({ center: 25, scale: 25 });
    expect(model.series.map((s) => s.name)).toEqual(['horse']);
    expect(distributionModel(dists.slice(1))!.centredOn).toBe('all');
  });

  it('draws the threshold line at the transformed threshold', () => {
    const model = distributionModel(dists, { threshold: 17.5 })!;
    expect(model.threshold).toEqual({ score: 17.5, u: symlog(17.5, model.axis), estimated: false });
    // the inliers (uniform on 0..10) set the axis: median 5, interquartile range 5
    expect(model.axis).toEqual({ center: 5, scale: 5 });
    const option = distributionOption(model);
    const line = seriesOf(option).find((s) => s.name === 'threshold')!;
    expect(line.markLine!.data[0].xAxis).toBe(symlog(17.5, model.axis));
    // the legend lists the curves, not the line
    expect((option.legend as { data: string[] }).data).toEqual([
      'inliers (held-out)',
      'anomalies (2 groups)',
    ]);
    // a threshold beyond every score still shows
    const far = distributionModel(dists, { threshold: 5000 })!;
    expect(far.uMax).toBeGreaterThan(far.threshold!.u);
    expect(distributionModel(dists, { threshold: null })!.threshold).toBeNull();
    // while the slider moves the line is labelled as an estimate
    const moving = distributionOption(distributionModel(dists, { threshold: 9, estimated: true })!);
    const label = (
      seriesOf(moving).find((s) => s.name === 'threshold') as unknown as {
        markLine: { label: { formatter: string } };
      }
    ).markLine.label.formatter;
    expect(label).toBe('≈ 9');
  });

  it('labels the symlog axis with scores at round ticks, and keeps the axis title off the legend row', () => {
    const model = distributionModel(dists, { threshold: 17.5 })!;
    const option = distributionOption(model);
    const x = option.xAxis as {
      min: number;
      max: number;
      axisLabel: { customValues: number[]; formatter: (u: number) => string };
    };
    expect([x.min, x.max]).toEqual([model.uMin, model.uMax]);
    expect(x.axisLabel.customValues).toEqual(model.ticks.map((t) => symlog(t, model.axis)));
    expect(x.axisLabel.customValues.map((u) => x.axisLabel.formatter(u))).toEqual(
      model.ticks.map(formatTick),
    );
    expect((option.yAxis as { nameLocation: string }).nameLocation).toBe('middle');
    const tooltip = option.tooltip as { formatter: (p: unknown) => string };
    const u = symlog(5, model.axis);
    expect(
      tooltip.formatter([
        { seriesName: 'inliers (held-out)', value: [u, 0.031] },
        { seriesName: 'anomalies (2 groups)', value: [u, 0] },
      ]),
    ).toBe('score ≈ 5\ninliers (held-out): 3.1 %\nanomalies (2 groups): 0 %');
  });

  it('estimates the threshold of a target FPR from the held-out inliers while the slider moves', () => {
    expect(estimateThreshold(dists, 0.1)).toBeCloseTo(9, 12);
    expect(estimateThreshold(dists, 0.5)).toBeCloseTo(5, 12);
    expect(estimateThreshold(dists.slice(1), 0.1)).toBeNull();
  });
});
