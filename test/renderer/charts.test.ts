// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { Histograms, LossPoint, RocCurve } from '../../src/shared/ipc';
import { binCenters, histogramOption, shares } from '../../src/renderer/src/charts/histogram';
import { lossChartOption } from '../../src/renderer/src/charts/loss';
import { withMotion } from '../../src/renderer/src/charts/motion';
import { rocOption } from '../../src/renderer/src/charts/roc';
import type { ChartOption } from '../../src/renderer/src/charts/types';

type Series = { name: string; type: string; data: [number, number][]; color?: string };
const seriesOf = (o: ChartOption): Series[] => o.series as unknown as Series[];

// the shape runs:get returns for a CIFAR-like run: 3 groups over 10 shared bins
const histograms: Histograms = {
  edges: [-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8],
  clippedAbove: 12.5,
  series: [
    { group: 'inliers (held-out)', anomaly: false, counts: [1, 4, 10, 20, 10, 4, 1, 0, 0, 0] },
    { group: 'contrast: imagenet', anomaly: true, counts: [0, 0, 2, 10, 40, 80, 40, 20, 6, 2] },
    { group: 'test: horse', anomaly: true, counts: [0, 1, 3, 6, 10, 12, 5, 2, 1, 0] },
  ],
};

describe('histogramOption', () => {
  it('puts one stepped series per group on the shared bin centres', () => {
    const option = histogramOption(histograms);
    const series = seriesOf(option);
    expect(series.map((s) => s.name)).toEqual(['inliers (held-out)', 'contrast: imagenet', 'test: horse']);
    for (const s of series) {
      expect(s.data).toHaveLength(10);
      expect(s.data.map((d) => d[0])).toEqual([-1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    }
    // each group's values are shares of that group: 20 of 50 held-out inliers in bin 3
    expect(series[0].data[3][1]).toBeCloseTo(0.4, 10);
    expect(series[1].data.reduce((a, d) => a + d[1], 0)).toBeCloseTo(1, 10);
    const xAxis = option.xAxis as { min: number; max: number };
    expect([xAxis.min, xAxis.max]).toEqual([-2, 8]);
  });

  it('colours inliers and anomalies from different palettes and uses text tooltips', () => {
    const option = histogramOption(histograms);
    const [inl, a1, a2] = seriesOf(option);
    expect(inl.color).not.toBe(a1.color);
    expect(a1.color).not.toBe(a2.color);
    expect((option.tooltip as { renderMode: string }).renderMode).toBe('richText');
  });

  it('has helpers that handle empty groups', () => {
    expect(binCenters([0, 2, 6])).toEqual([1, 4]);
    expect(shares([0, 0])).toEqual([0, 0]);
  });
});

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

describe('histogram tooltip', () => {
  it('shows the share of a [centre, share] point as a percentage', () => {
    const tooltip = histogramOption(histograms).tooltip as {
      valueFormatter: (v: number | number[], i: number) => string;
    };
    expect(tooltip.valueFormatter([1.5, 0.4], 3)).toBe('40.0 %');
    expect(tooltip.valueFormatter(0.125, 0)).toBe('12.5 %');
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
