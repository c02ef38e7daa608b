/** Comparing runs: the side-by-side rows and the one-vs-rest matrix (pure, tested). */
import type { RunSummary } from '../../../shared/ipc';

export interface OvrRow {
  runId: number;
  /** the run's inlier selection (e.g. 'cifar10: cat') */
  label: string;
  /** AUROC per column group; null where the run has none (e.g. its own inlier class) */
  values: (number | null)[];
  mean: number | null;
}

export interface OvrMatrix {
  groups: string[];
  rows: OvrRow[];
}

/**
 * The one-vs-rest matrix from runs' per-group AUROCs: one row per run (its inlier selection),
 * one column per anomaly group. Null unless at least two runs share a group.
 */
export function buildOvrMatrix(runs: readonly RunSummary[]): OvrMatrix | null {
  const withGroups = runs.filter((r) => Object.keys(r.perGroup).length > 0);
  const seen = new Map<string, number>();
  for (const r of withGroups) for (const g of Object.keys(r.perGroup)) seen.set(g, (seen.get(g) ?? 0) + 1);
  if (![...seen.values()].some((n) => n >= 2)) return null;
  const groups = [...seen.keys()].sort((a, b) => a.localeCompare(b));
  const rows = withGroups.map((r) => {
    const values = groups.map((g) => (g in r.perGroup ? r.perGroup[g] : null));
    const present = values.filter((v): v is number => v !== null);
    return {
      runId: r.id,
      label: r.inliers ?? r.name ?? `run ${r.id}`,
      values,
      mean: present.length > 0 ? present.reduce((a, b) => a + b, 0) / present.length : null,
    };
  });
  return { groups, rows };
}

/** Union of per-group keys over runs, sorted. */
export function allGroups(runs: readonly RunSummary[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.perGroup)))].sort((a, b) => a.localeCompare(b));
}
