import type { Histograms } from '../../../shared/ipc';
import { ANOMALY_COLORS, INLIER_COLORS, baseOption, type ChartOption } from './types';

/** Bin centres from shared edges (edges.length - 1 values). */
export function binCenters(edges: readonly number[]): number[] {
  const centers: number[] = [];
  for (let i = 0; i + 1 < edges.length; i++) centers.push((edges[i] + edges[i + 1]) / 2);
  return centers;
}

/** Each group's counts as shares of that group (groups differ a lot in size). */
export function shares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

/**
 * Score histogram, one stepped line per group over the shared bins. The y value is the share of
 * the group's items in the bin, so a 100-item held-out set and a 10 000-item contrast set compare.
 */
export function histogramOption(h: Histograms): ChartOption {
  const centers = binCenters(h.edges);
  let inlierIndex = 0;
  let anomalyIndex = 0;
  const series: ChartOption['series'] = h.series.map((s) => {
    const color = s.anomaly
      ? ANOMALY_COLORS[anomalyIndex++ % ANOMALY_COLORS.length]
      : INLIER_COLORS[inlierIndex++ % INLIER_COLORS.length];
    return {
      name: s.group,
      type: 'line',
      step: 'middle',
      showSymbol: false,
      color,
      lineStyle: { width: s.anomaly ? 2 : 2.5 },
      areaStyle: { opacity: 0.12 },
      data: shares(s.counts).map((share, i) => [centers[i], share]),
    };
  });
  return {
    ...baseOption(),
    tooltip: {
      trigger: 'axis',
      renderMode: 'richText',
      confine: true,
      // data points are [bin centre, share]: show the share
      valueFormatter: (v) => {
        const share = Array.isArray(v) ? v[v.length - 1] : v;
        return typeof share === 'number' ? `${(share * 100).toFixed(1)} %` : String(share);
      },
    },
    xAxis: {
      type: 'value',
      name: 'anomaly score',
      nameLocation: 'middle',
      nameGap: 28,
      min: h.edges[0],
      max: h.edges[h.edges.length - 1],
      axisLabel: { formatter: (v: number) => v.toFixed(1) },
    },
    yAxis: {
      type: 'value',
      name: 'share of group',
      axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` },
    },
    series,
  };
}
