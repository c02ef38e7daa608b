import { prefersReducedMotion } from '../lib/motion';
import type { ChartOption } from './types';

/** Applies the user's motion preference to a chart option (called by BaseChart only). */
export function withMotion(option: ChartOption, reduced = prefersReducedMotion()): ChartOption {
  return reduced ? { ...option, animation: false } : { ...option, animation: true, animationDuration: 300 };
}
