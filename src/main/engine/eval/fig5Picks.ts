/**
 * The paper's Figure 5 picks for one detector on a labelled test set:
 *   lowest-inlier     — the k inlier test images with the lowest scores (most typical inliers)
 *   hardest-anomaly   — the k anomaly test images with the lowest scores (the anomalies it misses first)
 *   strangest-inlier  — the k inlier test images with the highest scores (the inliers it flags first)
 * Scores: higher = more anomalous. Ties are broken by index so the picks are deterministic.
 */
export type PickGroup = 'lowest-inlier' | 'hardest-anomaly' | 'strangest-inlier';

export const PICK_GROUPS: readonly PickGroup[] = ['lowest-inlier', 'hardest-anomaly', 'strangest-inlier'];

export interface Pick {
  group: PickGroup;
  /** 1-based rank inside the group */
  rank: number;
  /** index into the scores array */
  index: number;
  score: number;
}

export function fig5Picks(scores: ArrayLike<number>, isAnomaly: ArrayLike<boolean | number>, k = 3): Pick[] {
  const inl: number[] = [];
  const ano: number[] = [];
  for (let i = 0; i < scores.length; i++) (isAnomaly[i] ? ano : inl).push(i);
  const asc = (a: number, b: number): number => scores[a] - scores[b] || a - b;
  const desc = (a: number, b: number): number => scores[b] - scores[a] || a - b;
  const take = (group: PickGroup, idx: number[], order: (a: number, b: number) => number): Pick[] =>
    [...idx]
      .sort(order)
      .slice(0, k)
      .map((index, r) => ({ group, rank: r + 1, index, score: scores[index] }));
  return [
    ...take('lowest-inlier', inl, asc),
    ...take('hardest-anomaly', ano, asc),
    ...take('strangest-inlier', inl, desc),
  ];
}
