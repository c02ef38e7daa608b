/**
 * The paper's Fig. 1/8 picture: the score distribution of the inliers against the anomalies, with
 * the threshold between them, on a symlog axis (./scoreAxis.ts) that shows the bulk and the tail.
 *
 * Each group arrives as its 101 percentiles (RunDetail.distributions); its CDF is taken as linear
 * between them (1 % of the group between two percentiles). Groups of one class are combined as a
 * mixture weighted by their counts, so the combined curve is the distribution of all their images.
 * Each curve is drawn as the share of its images in equal-width bins of the transformed axis (a
 * histogram on that axis, drawn as a smooth line).
 */
import type { ScoreDistribution } from '../../../shared/ipc';
import { formatPercent } from '../lib/format';
import {
  chooseSymlogAxis,
  formatTick,
  percentileAt,
  symlog,
  symlogInverse,
  symlogTicks,
  type SymlogAxis,
} from './scoreAxis';
import { ANOMALY_COLORS, INLIER_COLORS, baseOption, yAxisName, type ChartOption } from './types';

/** The group the threshold is picked on (engine/studio/rankedRun.ts names it). */
export const HELD_OUT_GROUP = 'inliers (held-out)';
export const DISTRIBUTION_BINS = 60;

/** F(x): the share of a group's scores ≤ x, from its 101 percentiles (linear in between). */
export function cdfAt(percentiles: readonly number[], x: number): number {
  const n = percentiles.length - 1;
  if (n < 1) return n === 0 ? (x >= percentiles[0] ? 1 : 0) : 0;
  if (x < percentiles[0]) return 0;
  if (x >= percentiles[n]) return 1;
  // the last k with percentiles[k] ≤ x (so percentiles[k + 1] > x)
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (percentiles[mid] <= x) lo = mid;
    else hi = mid;
  }
  const a = percentiles[lo];
  const b = percentiles[lo + 1];
  return (lo + (b > a ? (x - a) / (b - a) : 0)) / n;
}

export interface MixturePart {
  percentiles: readonly number[];
  /** the group's share of the mixture (its count over the mixture's count) */
  weight: number;
}

/** The mixture of some groups, each weighted by its number of images. */
export function mixtureOf(groups: readonly ScoreDistribution[]): MixturePart[] {
  const total = groups.reduce((a, g) => a + g.count, 0);
  return groups.map((g) => ({ percentiles: g.percentiles, weight: total > 0 ? g.count / total : 0 }));
}

export function mixtureCdf(parts: readonly MixturePart[], x: number): number {
  return parts.reduce((a, p) => a + p.weight * cdfAt(p.percentiles, x), 0);
}

/** The 101 percentiles of a mixture (its CDF inverted by bisection; exact for a single group). */
export function mixturePercentiles(parts: readonly MixturePart[]): number[] {
  if (parts.length === 1) return [...parts[0].percentiles];
  const lo = Math.min(...parts.map((p) => p.percentiles[0]));
  const hi = Math.max(...parts.map((p) => p.percentiles[p.percentiles.length - 1]));
  return Array.from({ length: 101 }, (_, k) => {
    const q = k / 100;
    let a = lo;
    let b = hi;
    for (let i = 0; i < 60 && b - a > 1e-12 * Math.max(1, Math.abs(a)); i++) {
      const m = (a + b) / 2;
      if (mixtureCdf(parts, m) < q) a = m;
      else b = m;
    }
    return b;
  });
}

export interface DistributionSeries {
  name: string;
  anomaly: boolean;
  /** the groups it combines */
  groups: string[];
  count: number;
  /** [bin centre in axis units, share of the series' images in the bin] */
  points: [number, number][];
}

export interface DistributionModel {
  axis: SymlogAxis;
  /**
   * what centres the axis: the inliers (against anomalies), the scores of a list whose class is not
   * known (e.g. a scored folder), or the middle half of all groups (no inliers among them)
   */
  centredOn: 'inliers' | 'scores' | 'all';
  uMin: number;
  uMax: number;
  /** tick positions, in score units */
  ticks: number[];
  series: DistributionSeries[];
  /** the threshold in score units and on the axis, when there is one */
  threshold: { score: number; u: number; estimated: boolean } | null;
}

export interface DistributionOptions {
  /** groups left out of the curves (the axis still spans every group, so it stays put) */
  hidden?: ReadonlySet<string>;
  /** one curve per group instead of one per class */
  split?: boolean;
  threshold?: number | null;
  /** the threshold is an estimate (the slider is moving) */
  estimated?: boolean;
  bins?: number;
}

function seriesName(groups: readonly ScoreDistribution[], anomaly: boolean): string {
  if (groups.length === 1) return groups[0].group;
  return `${anomaly ? 'anomalies' : 'inliers'} (${groups.length} groups)`;
}

/** The curves, axis and threshold of the chart (null when no group has scores). */
export function distributionModel(
  distributions: readonly ScoreDistribution[],
  o: DistributionOptions = {},
): DistributionModel | null {
  // inlier groups first, then by name
  const all = distributions
    .filter((d) => d.count > 0 && d.percentiles.length > 1)
    .sort((a, b) => Number(a.anomaly) - Number(b.anomaly) || a.group.localeCompare(b.group));
  if (all.length === 0) return null;
  // the axis is centred on the inliers (combined), the reference the anomalies are judged against
  const inliers = all.filter((d) => !d.anomaly);
  const axis = chooseSymlogAxis(
    inliers.length === 0 ? null : mixturePercentiles(mixtureOf(inliers)),
    all.map((d) => d.percentiles),
  );
  const threshold =
    o.threshold === null || o.threshold === undefined || !Number.isFinite(o.threshold) ? null : o.threshold;
  let uLo = Math.min(...all.map((d) => symlog(d.percentiles[0], axis)));
  let uHi = Math.max(...all.map((d) => symlog(d.percentiles[d.percentiles.length - 1], axis)));
  if (threshold !== null) {
    uLo = Math.min(uLo, symlog(threshold, axis));
    uHi = Math.max(uHi, symlog(threshold, axis));
  }
  const pad = (uHi - uLo) * 0.02 || 0.1;
  const uMin = uLo - pad;
  const uMax = uHi + pad;

  const visible = all.filter((d) => !o.hidden?.has(d.group));
  const sets: ScoreDistribution[][] = o.split
    ? visible.map((d) => [d])
    : [visible.filter((d) => !d.anomaly), visible.filter((d) => d.anomaly)].filter((s) => s.length > 0);

  const bins = o.bins ?? DISTRIBUTION_BINS;
  const du = (uMax - uMin) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => symlogInverse(uMin + i * du, axis));
  const series = sets.map((groups): DistributionSeries => {
    const anomaly = groups[0].anomaly;
    const parts = mixtureOf(groups);
    const cdf = edges.map((x) => mixtureCdf(parts, x));
    return {
      name: seriesName(groups, anomaly),
      anomaly,
      groups: groups.map((g) => g.group),
      count: groups.reduce((a, g) => a + g.count, 0),
      points: Array.from({ length: bins }, (_, i) => [
        uMin + (i + 0.5) * du,
        Math.max(0, cdf[i + 1] - cdf[i]),
      ]),
    };
  });
  return {
    axis,
    centredOn: inliers.length === 0 ? 'all' : inliers.length === all.length ? 'scores' : 'inliers',
    uMin,
    uMax,
    ticks: symlogTicks(axis, uMin, uMax),
    series,
    threshold:
      threshold === null
        ? null
        : { score: threshold, u: symlog(threshold, axis), estimated: o.estimated ?? false },
  };
}

/**
 * The threshold a target FPR would give, read from the held-out inliers' percentiles (the
 * (1 − FPR) quantile): what the chart shows while the slider moves, before the engine answers with
 * the exact value. Null without held-out inliers.
 */
export function estimateThreshold(
  distributions: readonly ScoreDistribution[],
  targetFpr: number,
): number | null {
  const held = distributions.find((d) => d.group === HELD_OUT_GROUP && d.percentiles.length > 1);
  if (!held || !Number.isFinite(targetFpr)) return null;
  return percentileAt(held.percentiles, 100 * (1 - Math.min(1, Math.max(0, targetFpr))));
}

const THRESHOLD_COLOR = '#1f2328';

export function distributionOption(model: DistributionModel): ChartOption {
  let inlierIndex = 0;
  let anomalyIndex = 0;
  const { axis } = model;
  const series: ChartOption['series'] = model.series.map((s) => ({
    name: s.name,
    type: 'line',
    smooth: 0.3,
    showSymbol: false,
    color: s.anomaly
      ? ANOMALY_COLORS[anomalyIndex++ % ANOMALY_COLORS.length]
      : INLIER_COLORS[inlierIndex++ % INLIER_COLORS.length],
    lineStyle: { width: 2 },
    areaStyle: { opacity: 0.15 },
    data: s.points,
  }));
  if (model.threshold) {
    const t = model.threshold;
    series.push({
      name: 'threshold',
      type: 'line',
      data: [],
      silent: true,
      markLine: {
        silent: true,
        symbol: 'none',
        animation: false,
        lineStyle: { color: THRESHOLD_COLOR, type: 'dashed', width: 1.5 },
        label: {
          formatter: t.estimated ? `≈ ${formatTick(t.score)}` : `threshold ${formatTick(t.score)}`,
          position: 'insideEndTop',
          color: THRESHOLD_COLOR,
        },
        data: [{ xAxis: t.u }],
      },
    });
  }
  const tickPositions = model.ticks.map((t) => symlog(t, axis));
  return {
    ...baseOption(),
    legend: { top: 0, type: 'scroll', data: model.series.map((s) => s.name) },
    tooltip: {
      trigger: 'axis',
      renderMode: 'richText',
      confine: true,
      formatter: (params) => {
        const list = Array.isArray(params) ? params : [params];
        const first = list[0]?.value;
        const u = Array.isArray(first) ? Number(first[0]) : Number.NaN;
        const lines = list
          .filter((p) => p.seriesName !== 'threshold')
          .map((p) => {
            const v = Array.isArray(p.value) ? Number(p.value[1]) : Number(p.value);
            return `${p.seriesName}: ${formatPercent(v)}`;
          });
        return [`score ≈ ${formatTick(symlogInverse(u, axis))}`, ...lines].join('\n');
      },
    },
    xAxis: {
      type: 'value',
      name: 'anomaly score (symlog axis)',
      nameLocation: 'middle',
      nameGap: 28,
      min: model.uMin,
      max: model.uMax,
      axisTick: { customValues: tickPositions },
      axisLabel: {
        customValues: tickPositions,
        hideOverlap: true,
        formatter: (u: number) => formatTick(symlogInverse(u, axis)),
      },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      ...yAxisName('share of group'),
      min: 0,
      // at the left edge, not at the axis centre (u = 0 is the inliers' median)
      axisLine: { onZero: false },
      axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` },
    },
    series,
  };
}
