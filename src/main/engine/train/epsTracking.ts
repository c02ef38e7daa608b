/**
 * Tracking ε (ours; METHOD §3): the CF clamp follows the inliers' log-density while the flow
 * trains, so that the contrast term neither switches itself off nor pushes the contrast down
 * without bound. At the start and at every held-out evaluation t, with ℓ = log p_θt:
 *
 *   a   = Q_α(ℓ(x̃)) − Δ                         the inliers' level, Δ nats lower
 *   ε_t = min( a,  max( Q_{1−ρ}(ℓ(ỹ)),  min ℓ(x̃) − Δ ) )
 *
 * x̃: the held-out inliers, each with R fixed draws of the training noise (so ε is on the scale of
 * the noisy training batches that the share above ε is counted on); ỹ: a fixed sample of the
 * contrast rows with one fixed draw of the noise; Q_α the α-quantile; Δ ≥ 0 the margin below the
 * inliers; ρ the least share of contrast above ε. The second term lowers ε when fewer than ρ of
 * the contrast would be above it — but never below every noisy held-out inlier's log p − Δ:
 * contrast that lies further below all inliers is already told apart, and pushing its top share
 * down again at every evaluation would push it without bound (measured on a toy: ε fell from −85
 * to −272 nats in 200 steps with an unbounded guard).
 *
 * Why relative: log p of D-dimensional features lives on a scale set by D and the training noise
 * (σ = 0.01 puts CIFAR MoCo inliers near +250 nats, σ = 0.16 near +40), so a fixed ε = 0 means
 * "hundreds of nats below the inliers" for one noise and "above every contrast point" for
 * another. Contrast points far below the inliers give no gradient (as in the paper's CF); the
 * flow pushes those within about Δ of the inliers' median.
 */
import type { Matrix } from '../util/matrix';
import { quantile } from '../util/stats';

export interface EpsTrackingRule {
  /** α: quantile of the noisy held-out inliers' log p */
  quantile: number;
  /** Δ ≥ 0, in nats: how far below that quantile ε sits */
  margin: number;
  /** ρ: the least share of contrast points above ε */
  minContrastShare: number;
}

/** ε_t from the current log p of the noisy held-out inliers and of the noisy contrast sample. */
export function trackedEps(
  rule: EpsTrackingRule,
  heldOutLogp: ArrayLike<number>,
  contrastLogp: ArrayLike<number>,
): number {
  const level = quantile(heldOutLogp, rule.quantile) - rule.margin;
  if (contrastLogp.length === 0 || rule.minContrastShare <= 0) return level;
  const floor = quantile(heldOutLogp, 0) - rule.margin;
  return Math.min(level, Math.max(quantile(contrastLogp, 1 - rule.minContrastShare), floor));
}

/** R noisy copies of each row of x (row-major, copies of row i together), seeded by `normal`. */
export function noisyCopies(x: Matrix, copies: number, noiseStd: number, normal: () => number): Matrix {
  const n = x.rows * copies;
  const out = new Float32Array(n * x.cols);
  for (let i = 0; i < x.rows; i++)
    for (let r = 0; r < copies; r++) {
      const o = (i * copies + r) * x.cols;
      for (let j = 0; j < x.cols; j++) out[o + j] = x.data[i * x.cols + j] + noiseStd * normal();
    }
  return { rows: n, cols: x.cols, data: out };
}
