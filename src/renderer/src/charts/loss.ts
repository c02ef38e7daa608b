import type { LossPoint } from '../../../shared/ipc';
import { baseOption, yAxisName, type ChartOption } from './types';

export const ABOVE_EPS_SERIES = 'contrast above ε';

/** steps along the bottom (not across the plot where NLL = 0) */
const STEP_AXIS = {
  type: 'value',
  name: 'step',
  nameLocation: 'middle',
  nameGap: 28,
  min: 0,
  axisLine: { onZero: false },
} as const;

/** A tooltip value of the share axis ([step, %] or %) as "42.0 %". */
function percentText(v: unknown): string {
  const x = Array.isArray(v) ? v[v.length - 1] : v;
  return typeof x === 'number' ? `${x.toFixed(1)} %` : String(x);
}

/**
 * Loss curves: inlier NLL and (when present) contrast NLL against training step, and for CF the
 * share of the contrast batch above ε on a second axis (0–100 %): at 0 % the contrast term is off
 * and CF trains like a plain flow.
 */
export function lossChartOption(points: readonly LossPoint[]): ChartOption {
  const inlier: [number, number][] = [];
  const contrast: [number, number][] = [];
  const above: [number, number][] = [];
  for (const p of points) {
    if (Number.isFinite(p.inlierNll)) inlier.push([p.step, p.inlierNll]);
    if (p.contrastNll !== null && Number.isFinite(p.contrastNll)) contrast.push([p.step, p.contrastNll]);
    const a = p.contrastAboveEps;
    if (typeof a === 'number' && Number.isFinite(a)) above.push([p.step, a * 100]);
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
  const nll = { type: 'value' as const, ...yAxisName('NLL'), scale: true };
  if (above.length === 0)
    return {
      ...baseOption(),
      xAxis: STEP_AXIS,
      yAxis: nll,
      series,
    };
  series.push({
    name: ABOVE_EPS_SERIES,
    type: 'line',
    yAxisIndex: 1,
    data: above,
    showSymbol: false,
    lineStyle: { width: 1.5, type: 'dashed' },
    color: '#7a5aa6',
    tooltip: { valueFormatter: (v) => percentText(v) },
  });
  return {
    ...baseOption(),
    grid: { left: 64, right: 60, top: 36, bottom: 48 },
    xAxis: STEP_AXIS,
    yAxis: [
      nll,
      {
        type: 'value',
        ...yAxisName('contrast above ε', 'right'),
        min: 0,
        max: 100,
        splitLine: { show: false },
        axisLabel: { formatter: (v: number) => `${v} %` },
      },
    ],
    series,
  };
}
