/** The threshold slider works on a log scale of the target false-positive rate. */
export const MIN_FPR = 0.001;
export const MAX_FPR = 0.5;
export const SLIDER_STEPS = 200;

const LO = Math.log10(MIN_FPR);
const HI = Math.log10(MAX_FPR);

export function clampFpr(fpr: number): number {
  if (!Number.isFinite(fpr)) return MIN_FPR;
  return Math.min(MAX_FPR, Math.max(MIN_FPR, fpr));
}

export function fprToSlider(fpr: number): number {
  return Math.round(((Math.log10(clampFpr(fpr)) - LO) / (HI - LO)) * SLIDER_STEPS);
}

/** Slider position → FPR, rounded to a readable value (3 significant digits). */
export function sliderToFpr(position: number): number {
  const fpr = 10 ** (LO + (Math.min(SLIDER_STEPS, Math.max(0, position)) / SLIDER_STEPS) * (HI - LO));
  return clampFpr(Number(fpr.toPrecision(2)));
}
