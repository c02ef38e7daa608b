/** The ECharts option type for the pieces this app registers (tree-shaken `echarts/core`). */
import type { ComposeOption } from 'echarts/core';
import type { BarSeriesOption, LineSeriesOption } from 'echarts/charts';
import type {
  GridComponentOption,
  LegendComponentOption,
  TitleComponentOption,
  TooltipComponentOption,
  AriaComponentOption,
} from 'echarts/components';

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | LegendComponentOption
  | TitleComponentOption
  | TooltipComponentOption
  | AriaComponentOption
>;

/** A calm palette: inliers in blues/greens, anomalies in warm tones. */
export const INLIER_COLORS = ['#2f6f9f', '#3d8c6e', '#5b7fb8', '#4a9bb0'];
export const ANOMALY_COLORS = ['#c2553a', '#d08a2e', '#a8448a', '#b86b4b', '#8e6c3a', '#c24a6a'];

/** Shared chart frame: legible text, no HTML tooltips (CSP), room for axis names. */
export function baseOption(): ChartOption {
  return {
    textStyle: { fontFamily: 'system-ui, sans-serif', fontSize: 12 },
    grid: { left: 56, right: 24, top: 40, bottom: 48 },
    tooltip: { trigger: 'axis', renderMode: 'richText', confine: true },
    legend: { top: 4, type: 'scroll' },
    aria: { enabled: true },
  };
}
