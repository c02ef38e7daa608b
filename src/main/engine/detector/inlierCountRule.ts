/**
 * The inlier-count rule (ours; derivation and measurements in docs/small-folders.md): the flow's
 * size, training length, training noise, model selection and ε rule chosen from the number of
 * training inliers n and the feature dimension D, so that CF is the right default from ~50 to
 * 10,000+ inliers with no manual tuning. With r = n / D (training rows per dimension) and s the
 * inliers' column spread √(mean_j Var x_j) after preprocessing (≈ 0.085 for L2-normalized 128-d
 * MoCo features, 1 for standardized tables):
 *
 *   noise σ        = κ(r)·s,  κ(r) = clamp(1.76·r^−0.21, 0.1, 1.9)
 *                    (CIFAR: 1.9 s at n ≤ 90, 1.5 s at 270, 1.17 s at 900; tables 0.4–0.8 s)
 *   H, blocks      = 128, 4
 *   steps          = clamp(300·n / min(256, n), 300, 2000)      (≈ 300 epochs)
 *   held-out NLL   every max(10, steps / 20) steps; the best evaluation's parameters are returned
 *   ε (CF)         = tracking (train/epsTracking.ts): median of the noisy held-out inliers' log p
 *                    − Δ(n), Δ = clamp(20·log10(n / 100), 0, 20) nats; ≥ 1 % of contrast above ε
 *   weight decay   = 0 (measured: no gain once the noise is right; it stays a setting)
 *
 * Settings the user gave (DetectorConfig.sizing.userSet) are kept. fitDetector applies the rule
 * once and records it: the detector's config is the resolved one, and a note says what was chosen.
 */
import type { Matrix } from '../util/matrix';
import type { DetectorConfig, SizedSetting } from './config';

/** decoupled weight decay of the subnet weights (adam.ts): none (docs/small-folders.md) */
export const WEIGHT_DECAY = 0;

/** What the rule chose, for the detector's notes. */
export interface InlierCountChoice {
  config: DetectorConfig;
  note: string;
}

/** √(mean over columns of the column variance) of x: the scale the noise is relative to. */
export function columnSpread(x: Matrix): number {
  const { rows, cols, data } = x;
  if (rows < 2) return 1;
  let total = 0;
  for (let j = 0; j < cols; j++) {
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < rows; i++) {
      const v = data[i * cols + j];
      s += v;
      s2 += v * v;
    }
    const m = s / rows;
    total += Math.max(0, s2 / rows - m * m);
  }
  const spread = Math.sqrt(total / cols);
  return spread > 0 && Number.isFinite(spread) ? spread : 1;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** κ(r): the training noise in units of the column spread, for r training rows per dimension. */
export function noiseFactor(rowsPerDim: number): number {
  return clamp(1.76 * Math.pow(Math.max(rowsPerDim, 1e-3), -0.21), 0.1, 1.9);
}

/** Δ(n): the tracking ε's margin below the held-out median, in nats. */
export function epsMargin(trainRows: number): number {
  return clamp(20 * Math.log10(trainRows / 100), 0, 20);
}

/** Training steps: about 300 epochs, at least 300 and at most 2,000 steps. */
export function stepsFor(trainRows: number, batchSize: number): number {
  const batch = Math.min(batchSize, trainRows);
  return Math.round(clamp((300 * trainRows) / batch, 300, 2000));
}

/**
 * The rule's settings for a flow trained on `train` (preprocessed training inliers, after the
 * held-out split), except those in config.sizing.userSet.
 */
export function applyInlierCountRule(config: DetectorConfig, train: Matrix): InlierCountChoice {
  const set = new Set<SizedSetting>(config.sizing.userSet);
  const keep = (s: SizedSetting) => set.has(s);
  const n = train.rows;
  const d = train.cols;
  const c: DetectorConfig = {
    ...config,
    flow: { ...config.flow },
    train: { ...config.train },
    oe: { ...config.oe },
    eps: { ...config.eps },
  };
  if (!keep('hidden')) c.flow.hidden = 128;
  if (!keep('blocks')) c.flow.blocks = 4;
  if (!keep('steps')) c.train.steps = stepsFor(n, c.train.batchSize);
  if (!keep('oeSteps')) c.oe.steps = Math.max(1, Math.round(c.train.steps / 2));
  const spread = columnSpread(train);
  const kappa = noiseFactor(n / d);
  if (!keep('noise')) c.train.noiseStd = +(kappa * spread).toPrecision(3);
  if (!keep('evalEvery')) c.train.evalEvery = Math.max(10, Math.round(c.train.steps / 20));
  if (!keep('weightDecay')) c.train.weightDecay = WEIGHT_DECAY;
  if (!keep('restoreBest')) c.train.restoreBest = true;
  if (!keep('eps'))
    c.eps = { mode: 'tracking', quantile: 0.5, margin: +epsMargin(n).toFixed(1), minContrastShare: 0.01 };
  const parts = [
    `H=${c.flow.hidden}`,
    `blocks=${c.flow.blocks}`,
    `steps=${c.train.steps}`,
    `noise=${c.train.noiseStd} (${(c.train.noiseStd / spread).toFixed(2)}× the inliers' column spread)`,
    `weight decay=${c.train.weightDecay}`,
  ];
  if (c.method === 'cf')
    parts.push(
      c.eps.mode === 'tracking'
        ? `ε tracking the held-out inliers (median − ${c.eps.margin} nats)`
        : c.eps.mode === 'fixed'
          ? `ε=${c.eps.value}`
          : 'auto ε',
    );
  const kept = [...set];
  const note =
    `${n < 1000 ? 'small folder' : 'inlier-count rule'} (${n} training inliers, ${d} features): ${parts.join(', ')}` +
    (kept.length ? `; kept your ${kept.join(', ')}` : '');
  return { config: c, note };
}
