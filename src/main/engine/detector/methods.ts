/**
 * The detection methods CF Studio trains and compares (METHOD §3 table), in one registry that
 * the engine, the CLI, the IPC schemas and the app's forms all read: id, labels, whether the
 * method needs contrast data, whether it trains flows (loss curves, steps, ε) and whether it
 * can be exported as a standalone ONNX scorer.
 */
import { userError } from '../util/errors';

export const METHODS = ['cf', 'flow', 'ratio', 'oe', 'mse', 'mse-ratio', 'knn', 'kde', 'pca'] as const;
export type Method = (typeof METHODS)[number];

export interface MethodInfo {
  id: Method;
  /** e.g. 'CF (contrastive flow)' */
  label: string;
  /** column heads and compact lists: 'CF', 'Flow-ratio' */
  shortLabel: string;
  /** trains on contrast data (a dataset, or permutation contrast for tables) */
  needsContrast: boolean;
  /** trains normalizing flows: loss curves, steps, ε (CF) */
  flow: boolean;
  /** the detector can be written as a standalone ONNX scorer */
  exportable: boolean;
  /** one line for pickers and help texts */
  description: string;
}

const REGISTRY: Record<Method, Omit<MethodInfo, 'id'>> = {
  cf: {
    label: 'CF (contrastive flow)',
    shortLabel: 'CF',
    needsContrast: true,
    flow: true,
    exportable: true,
    description: 'a flow that raises the likelihood of the inliers and lowers it on the contrast data',
  },
  flow: {
    label: 'Flow',
    shortLabel: 'Flow',
    needsContrast: false,
    flow: true,
    exportable: true,
    description: 'a flow trained on the inliers alone (score = −log p)',
  },
  ratio: {
    label: 'Flow-ratio',
    shortLabel: 'Ratio',
    needsContrast: true,
    flow: true,
    exportable: true,
    description: 'two flows, inliers and contrast; score = log q − log p',
  },
  oe: {
    label: 'OE (outlier exposure)',
    shortLabel: 'OE',
    needsContrast: true,
    flow: true,
    exportable: true,
    description: 'a flow, then fine-tuned with a margin loss against the contrast data',
  },
  mse: {
    label: 'MSE',
    shortLabel: 'MSE',
    needsContrast: false,
    flow: false,
    exportable: false,
    description: 'squared distance to the inlier mean',
  },
  'mse-ratio': {
    label: 'MSE-ratio',
    shortLabel: 'MSE-ratio',
    needsContrast: true,
    flow: false,
    exportable: false,
    description: 'distance to the inlier mean minus distance to the contrast mean',
  },
  knn: {
    label: 'KNN',
    shortLabel: 'KNN',
    needsContrast: false,
    flow: false,
    exportable: false,
    description: 'distance to the k-th nearest inlier (k = 5)',
  },
  kde: {
    label: 'KDE',
    shortLabel: 'KDE',
    needsContrast: false,
    flow: false,
    exportable: false,
    description: 'Gaussian kernel density of the inliers',
  },
  pca: {
    label: 'PCA',
    shortLabel: 'PCA',
    needsContrast: false,
    flow: false,
    exportable: false,
    description: 'reconstruction error outside the inliers’ principal subspace',
  },
};

/** Every method, in the registry's order. */
export const METHOD_INFO: readonly MethodInfo[] = METHODS.map((id) => ({ id, ...REGISTRY[id] }));

export function methodInfo(m: Method): MethodInfo {
  return { id: m, ...REGISTRY[m] };
}

export function isMethod(s: string): s is Method {
  return Object.hasOwn(REGISTRY, s);
}

export const METHOD_LABELS: Record<Method, string> = Object.fromEntries(
  METHODS.map((m) => [m, REGISTRY[m].label]),
) as Record<Method, string>;

export const FLOW_METHODS: readonly Method[] = METHODS.filter((m) => REGISTRY[m].flow);

/** Methods that need contrast data (a file, a dataset, or permutation contrast). */
export const CONTRAST_METHODS: readonly Method[] = METHODS.filter((m) => REGISTRY[m].needsContrast);

/**
 * The one rule for contrast data: a method that needs it must have it (a dataset, or permutation
 * contrast for tables); methods without a contrast term ignore it.
 */
export function checkContrast(method: Method, hasContrast: boolean): void {
  const m = REGISTRY[method];
  if (m.needsContrast && !hasContrast)
    throw userError('method-needs-contrast', `${m.label} needs contrast data`, { method, label: m.label });
}
