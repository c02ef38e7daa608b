import type { LossPoint } from '../../../shared/ipc';
import { baseOption, type ChartOption } from './types';

/** Loss curves: inlier NLL and (when present) contrast NLL against training step. */
export function lossChartOption(points: readonly LossPoint[]): ChartOption {
  const inlier: [number, number][] = [];
  const contrast: [number, number][] = [];
  for (const p of points) {
    if (Number.isFinite(p.inlierNll)) inlier.push([p.step, p.inlierNll]);
    if (p.contrastNll !== null && Number.isFinite(p.contrastNll)) contrast.push([p.step, p.contrastNll]);
  }
  const series: ChartOption['series'] = [
    {
      name: 'inlier NLL',
      type: 'line',
      data: inlier,
      showSymbol: false,
      lineStyle: { width: 2 },
      color: '#2f6f9f',
    },
  ];
  if (contrast.length > 0) {
    series.push({
      name: 'contrast NLL',
      type: 'line',
      data: contrast,
      showSymbol: false,
      lineStyle: { width: 2 },
      color: '#c2553a',
    });
  }
  return {
    ...baseOption(),
    xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 28, min: 0 },
    yAxis: { type: 'value', name: 'NLL', scale: true },
    series,
  };
}
