/** The before/after table of a run retrained with feedback (pure, tested). */
import type { RetrainComparison } from '../../../shared/ipc';
import { formatAuroc, formatCount, formatScore } from './format';

export interface ComparisonRow {
  key: string;
  label: string;
  before: number | null;
  after: number | null;
  beforeText: string;
  afterText: string;
  /** after − before, as shown (AUROC in percentage points) */
  changeText: string;
  /** +1 better, −1 worse, 0 the same, null: no direction (e.g. a count) or no value */
  direction: 1 | -1 | 0 | null;
}

function signed(x: number, digits: number): string {
  const v = Number(x.toFixed(digits));
  if (v === 0) return '±0';
  return `${v > 0 ? '+' : '−'}${Math.abs(v).toFixed(digits)}`;
}

function aurocRow(key: string, label: string, before: number | null, after: number | null): ComparisonRow {
  const both = before !== null && after !== null;
  const diff = both ? (after - before) * 100 : null;
  return {
    key,
    label,
    before,
    after,
    beforeText: formatAuroc(before),
    afterText: formatAuroc(after),
    changeText: diff === null ? '—' : `${signed(diff, 1)} pt`,
    direction: diff === null ? null : Math.abs(diff) < 0.05 ? 0 : diff > 0 ? 1 : -1,
  };
}

/** Rows: flagged at the same target FPR, the threshold, AUROC overall, then AUROC per group. */
export function comparisonRows(c: RetrainComparison): ComparisonRow[] {
  const rows: ComparisonRow[] = [
    {
      key: 'flagged',
      label: 'Flagged at the same target FPR',
      before: c.before.flagged,
      after: c.after.flagged,
      beforeText: formatCount(c.before.flagged),
      afterText: formatCount(c.after.flagged),
      changeText: c.after.flagged === c.before.flagged ? '±0' : signed(c.after.flagged - c.before.flagged, 0),
      direction: null,
    },
    {
      key: 'threshold',
      label: 'Threshold (score)',
      before: c.before.threshold,
      after: c.after.threshold,
      beforeText: formatScore(c.before.threshold),
      afterText: formatScore(c.after.threshold),
      changeText: '',
      direction: null,
    },
    aurocRow('auroc', 'AUROC', c.before.auroc, c.after.auroc),
  ];
  const groups = [...new Set([...Object.keys(c.before.perGroup), ...Object.keys(c.after.perGroup)])].sort(
    (a, b) => a.localeCompare(b),
  );
  for (const g of groups)
    rows.push(
      aurocRow(`group:${g}`, `AUROC · ${g}`, c.before.perGroup[g] ?? null, c.after.perGroup[g] ?? null),
    );
  return rows;
}

export type MovedItem = RetrainComparison['moved'][number];

/** The marked images whose flag changed, largest score change first; then the others. */
export function movedAcross(c: RetrainComparison): { crossed: MovedItem[]; stayed: MovedItem[] } {
  const byChange = (a: MovedItem, b: MovedItem) =>
    Math.abs(b.after - b.before) - Math.abs(a.after - a.before);
  return {
    crossed: c.moved.filter((m) => m.flaggedBefore !== m.flaggedAfter).sort(byChange),
    stayed: c.moved.filter((m) => m.flaggedBefore === m.flaggedAfter).sort(byChange),
  };
}

/**
 * Whether a marked image moved the way its mark asks: a false alarm (normal) should lose its flag,
 * a confirmed anomaly gain it.
 */
export function movedAsMarked(m: MovedItem): boolean {
  return m.mark === 'normal' ? m.flaggedBefore && !m.flaggedAfter : !m.flaggedBefore && m.flaggedAfter;
}
