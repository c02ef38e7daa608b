/** The ECharts option type for the pieces this app registers (tree-shaken `echarts/core`). */
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  AriaComponentOption,
  MarkLineComponentOption,
} from 'echarts/components';

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | TooltipComponentOption
  | AriaComponentOption
  | MarkLineComponentOption
>;

/** A calm palette: inliers in blues/greens, anomalies in warm tones. */
export const INLIER_COLORS = ['#2f6f9f', '#3d8c6e', '#5b7fb8', '#4a9bb0'];
export const ANOMALY_COLORS = ['#c2553a', '#d08a2e', '#a8448a', '#b86b4b', '#8e6c3a', '#c24a6a'];

/**
 * Shared chart frame: legible text, no HTML tooltips (CSP), room for axis names. The legend has the
 * top row to itself: axis names sit beside their axis (yAxisName), never under the legend.
 */
export function baseOption(): ChartOption {
  return {
    textStyle: { fontFamily: 'system-ui, sans-serif', fontSize: 12 },
    grid: { left: 64, right: 24, top: 36, bottom: 48 },
    tooltip: { trigger: 'axis', renderMode: 'richText', confine: true },
    legend: { top: 0, type: 'scroll' },
    aria: { enabled: true },
  };
}

/** A y axis name written along the axis, outside its labels (left axis; `right` for a second axis). */
export function yAxisName(
  name: string,
  side: 'left' | 'right' = 'left',
): { name: string; nameLocation: 'middle'; nameGap: number; nameRotate: number } {
  return {
    name,
    nameLocation: 'middle',
    nameGap: side === 'left' ? 46 : 40,
    nameRotate: side === 'left' ? 90 : -90,
  };
}
