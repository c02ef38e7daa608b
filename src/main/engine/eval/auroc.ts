/**
 * Area under the ROC curve of an anomaly score.
 *
 *   AUROC = U / (n_pos · n_neg),   U = R_pos − n_pos(n_pos + 1)/2
 *
 * where R_pos is the sum of the (1-based, ascending) ranks of the positive scores, tied scores
 * sharing their midrank (Mann–Whitney U). Equivalently: P(s_pos > s_neg) + ½·P(s_pos = s_neg)
 * over all positive/negative pairs. Positives (label 1 / true) are anomalies, negatives
 * (0 / false) inliers; a higher score means more anomalous. O(n log n).
 */
import { UserError } from '../util/errors';

/**
 * Labels as 0/1 bytes (1 = anomaly), with the scores checked against them: same length,
 * no NaN score, every label 0/1/true/false. Shared by the ROC helpers.
 */
export function checkScoresLabels(
  scores: ArrayLike<number>,
  labels: ArrayLike<number | boolean>,
  what = 'AUROC',
): { pos: Uint8Array; nPos: number; nNeg: number } {
  if (scores.length !== labels.length) {
    throw new UserError(
      `${what}: ${scores.length} scores but ${labels.length} labels`,
      'Pass exactly one label per score.',
    );
  }
  const n = scores.length;
  const pos = new Uint8Array(n);
  let nPos = 0;
  for (let i = 0; i < n; i++) {
    const s = scores[i];
    if (Number.isNaN(s)) {
      throw new UserError(
        `${what}: score ${i} is NaN`,
        'The detector produced an invalid score; check its input features and training for NaN/Inf.',
      );
    }
    const l = labels[i];
    if (l === 1 || l === true) {
      pos[i] = 1;
      nPos++;
    } else if (l !== 0 && l !== false) {
      throw new UserError(
        `${what}: label ${i} is ${String(l)}, expected 0/false (inlier) or 1/true (anomaly)`,
      );
    }
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) {
    throw new UserError(
      `${what} needs both classes: got ${nPos} anomalies and ${nNeg} inliers`,
      'Evaluate on a test set that contains both inliers (label 0) and anomalies (label 1).',
    );
  }
  return { pos, nPos, nNeg };
}

/** Indices 0..n-1 ordered by score (ascending, or descending if `desc`). */
export function argsortScores(scores: ArrayLike<number>, desc = false): Uint32Array {
  const n = scores.length;
  const s = Float64Array.from(scores);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const sign = desc ? -1 : 1;
  // explicit comparisons: `a - b` is NaN for Infinity − Infinity
  idx.sort((a, b) => (s[a] < s[b] ? -sign : s[a] > s[b] ? sign : 0));
  return idx;
}

export function auroc(scores: ArrayLike<number>, labels: ArrayLike<number | boolean>): number {
  const { pos, nPos, nNeg } = checkScoresLabels(scores, labels, 'AUROC');
  const n = scores.length;
  const order = argsortScores(scores);
  let rankSumPos = 0;
  let i = 0;
  while (i < n) {
    const v = scores[order[i]];
    let j = i + 1;
    while (j < n && scores[order[j]] === v) j++;
    // positions i..j-1 (0-based) hold ranks i+1..j: midrank (i + 1 + j) / 2
    const midrank = (i + 1 + j) / 2;
    let p = 0;
    for (let t = i; t < j; t++) p += pos[order[t]];
    rankSumPos += p * midrank;
    i = j;
  }
  const u = rankSumPos - (nPos * (nPos + 1)) / 2;
  const a = u / (nPos * nNeg);
  return Math.min(1, Math.max(0, a));
}
