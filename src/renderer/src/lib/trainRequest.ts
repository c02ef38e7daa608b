/** The New-detector form as data, and its translation into a TrainRequest (pure, tested). */
import type { MethodId, MethodInfo, TrainRequest } from '../../../shared/ipc';

export type ContrastChoice = { kind: 'none' } | { kind: 'dataset'; id: number };

export interface TrainDraft {
  name: string;
  inlierDatasetId: number | null;
  /** subfolder labels used as inliers; null = the whole dataset */
  inlierLabels: string[] | null;
  contrast: ContrastChoice;
  testDatasetId: number | null;
  testInlierLabels: string[];
  extractorId: number | null;
  method: MethodId;
  /**
   * Flow settings: null = auto, chosen at training time from the number of inlier images by the
   * engine's inlier-count rule (src/main/engine/detector/inlierCountRule.ts); a number = the user's
   */
  steps: number | null;
  /** what the user typed: '' = by the inlier-count rule, 'auto' = the held-out quantile rule, or a number ≥ 0 */
  epsText: string;
  hidden: number | null;
  blocks: number | null;
  seed: number;
}

export function defaultDraft(): TrainDraft {
  return {
    name: '',
    inlierDatasetId: null,
    inlierLabels: null,
    contrast: { kind: 'none' },
    testDatasetId: null,
    testInlierLabels: [],
    extractorId: null,
    method: 'cf',
    steps: null,
    epsText: '',
    hidden: null,
    blocks: null,
    seed: 0,
  };
}

/**
 * ε as typed: 'auto' or a number ≥ 0; undefined when empty (left to the inlier-count rule, which
 * tracks the inliers); null when it is neither.
 */
export function parseEps(text: string): number | 'auto' | undefined | null {
  const t = text.trim().toLowerCase();
  if (t === 'auto') return 'auto';
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

export interface TrainContext {
  /** the chosen method's entry of the engine's registry (methods:list) */
  method: MethodInfo | undefined;
}

export type DraftCheck = { ok: true; request: TrainRequest } | { ok: false; problems: string[] };

/** unset (null: the inlier-count rule chooses) or a whole number ≥ min (the IPC schema's bounds) */
function validSetting(n: number | null, min = 1): boolean {
  return n === null || (Number.isInteger(n) && n >= min);
}

/** Checks the form and builds the request; problems are phrased for the user. */
export function buildTrainRequest(draft: TrainDraft, ctx: TrainContext): DraftCheck {
  const problems: string[] = [];
  const method = ctx.method;
  if (!method) problems.push('Choose a method.');
  if (draft.inlierDatasetId === null)
    problems.push('Choose the inlier images: drop a folder or pick a dataset.');
  if (draft.inlierLabels !== null && draft.inlierLabels.length === 0)
    problems.push('Select at least one inlier label.');
  const usesContrast = method?.usesContrast ?? false;
  if (usesContrast && draft.contrast.kind === 'none')
    problems.push(`${method?.label ?? 'This method'} needs contrast images: pick a folder or a dataset.`);
  if (draft.extractorId === null) problems.push('Choose a feature extractor.');
  const flow = method?.flow ?? false;
  if (flow && !validSetting(draft.steps)) problems.push('Steps must be a whole number ≥ 1 (or empty: auto).');
  if (flow && !validSetting(draft.hidden, 4))
    problems.push('Hidden units must be a whole number ≥ 4 (or empty: auto).');
  if (flow && !validSetting(draft.blocks))
    problems.push('Blocks must be a whole number ≥ 1 (or empty: auto).');
  if (!Number.isInteger(draft.seed)) problems.push('The seed must be a whole number.');
  const eps = parseEps(draft.epsText);
  if (method?.id === 'cf' && eps === null)
    problems.push('ε must be a number ≥ 0, "auto", or empty (chosen from the inliers).');
  if (draft.testDatasetId !== null && draft.testInlierLabels.length === 0)
    problems.push('Select which labels of the test set are inliers.');
  if (problems.length > 0 || !method || draft.inlierDatasetId === null || draft.extractorId === null)
    return { ok: false, problems };

  const contrast: TrainRequest['contrast'] =
    usesContrast && draft.contrast.kind === 'dataset' ? { datasetId: draft.contrast.id, labels: null } : null;
  const request: TrainRequest = {
    method: method.id,
    inliers: {
      datasetId: draft.inlierDatasetId,
      labels: draft.inlierLabels ? [...draft.inlierLabels] : null,
    },
    contrast,
    test:
      draft.testDatasetId !== null
        ? { datasetId: draft.testDatasetId, inlierLabels: [...draft.testInlierLabels] }
        : null,
    extractorId: draft.extractorId,
    seed: draft.seed,
  };
  // unset settings stay out of the request: the engine's inlier-count rule chooses them
  if (flow && draft.steps !== null) request.steps = draft.steps;
  if (flow && draft.hidden !== null) request.hidden = draft.hidden;
  if (flow && draft.blocks !== null) request.blocks = draft.blocks;
  if (method.id === 'cf' && eps !== undefined && eps !== null) request.eps = eps;
  const name = draft.name.trim();
  if (name) request.name = name;
  return { ok: true, request };
}
