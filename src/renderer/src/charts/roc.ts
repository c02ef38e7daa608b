import type { RocCurve } from '../../../shared/ipc';
import { formatAuroc, formatPercent } from '../lib/format';
import { baseOption, yAxisName, type ChartOption } from './types';

/** ROC curve (TPR against FPR) with the chance diagonal; the legend names the AUROC. */
export function rocOption(roc: RocCurve): ChartOption {
  const n = Math.min(roc.fpr.length, roc.tpr.length);
  const curve: [number, number][] = [];
  for (let i = 0; i < n; i++) curve.push([roc.fpr[i], roc.tpr[i]]);
  return {
    ...baseOption(),
    tooltip: {
      trigger: 'axis',
      renderMode: 'richText',
      confine: true,
      formatter: (params) => {
        const p = Array.isArray(params) ? params[0] : params;
        const [fpr, tpr] = Array.isArray(p?.value) ? (p.value as number[]) : [Number.NaN, Number.NaN];
        return `FPR ${formatPercent(fpr)} · TPR ${formatPercent(tpr)}`;
      },
    },
    xAxis: {
      type: 'value',
      name: 'false-positive rate',
      nameLocation: 'middle',
      nameGap: 28,
      min: 0,
      max: 1,
    },
    yAxis: { type: 'value', ...yAxisName('true-positive rate'), min: 0, max: 1 },
    series: [
      {
        name: `ROC (AUROC ${formatAuroc(roc.auroc)})`,
        type: 'line',
        data: curve,
        showSymbol: false,
        color: '#2f6f9f',
        lineStyle: { width: 2 },
        areaStyle: { opacity: 0.08 },
      },
      {
        name: 'chance',
        type: 'line',
        data: [
          [0, 0],
          [1, 1],
        ],
        showSymbol: false,
        silent: true,
        color: '#9aa4ae',
        lineStyle: { width: 1, type: 'dashed' },
      },
    ],
  };
}
