/**
 * A decision threshold from a target false-positive rate α on n held-out inliers, whose scores
 * sorted descending are s₍₁₎ ≥ … ≥ s₍ₙ₎:
 *
 *   k = ⌊α·n⌋,   t = (s₍ₖ₎ + s₍ₖ₊₁₎)/2   (k = 0: just above s₍₁₎; k = n: s₍ₙ₎)
 *
 * so exactly k held-out inliers score ≥ t and the held-out FPR is k/n ≤ α. An item is flagged
 * when its score ≥ t.
 */
export function thresholdFor(heldOut: readonly number[], targetFpr: number): number {
  const s = [...heldOut].sort((a, b) => b - a);
  const k = Math.min(s.length, Math.floor(targetFpr * s.length + 1e-9));
  if (k === 0) return s[0] + Math.max(Math.abs(s[0]) * 1e-6, 1e-9);
  if (k === s.length) return s[s.length - 1];
  return (s[k - 1] + s[k]) / 2;
}

/** How many scores are flagged (≥ t). */
export function countFlagged(scores: Iterable<number>, t: number): number {
  let n = 0;
  for (const s of scores) if (s >= t) n++;
  return n;
}
