/**
 * The detection methods CF Studio trains and compares (METHOD §3 table). Flow-based methods
 * train normalizing flows; the others are the classic baselines on the same features.
 */
export const METHODS = ['cf', 'flow', 'ratio', 'oe', 'mse', 'mse-ratio', 'knn', 'kde', 'pca'] as const;
export type Method = (typeof METHODS)[number];

export const FLOW_METHODS: readonly Method[] = ['cf', 'flow', 'ratio', 'oe'];

/** Methods that need contrast data (a file, a dataset, or permutation contrast). */
export const CONTRAST_METHODS: readonly Method[] = ['cf', 'ratio', 'oe', 'mse-ratio'];

export const METHOD_LABELS: Record<Method, string> = {
  cf: 'CF (contrastive flow)',
  flow: 'Flow',
  ratio: 'Flow-ratio',
  oe: 'OE (outlier exposure)',
  mse: 'MSE',
  'mse-ratio': 'MSE-ratio',
  knn: 'KNN',
  kde: 'KDE',
  pca: 'PCA',
};

export function isMethod(s: string): s is Method {
  return (METHODS as readonly string[]).includes(s);
}
