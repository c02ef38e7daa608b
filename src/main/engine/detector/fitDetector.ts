/**
 * Trains a detector of any method on inlier features (+ contrast): preprocessing fitted on
 * the inliers, 10 % of inliers held out, then the method's flows or baseline. The result is
 * a plain `Detector` object (saved as .cfdet by model/cfdet.ts, scored by scoreDetector.ts).
 */
import { initTfjs, type BackendInfo } from '../backend/tfjsBackend';
import { fitBaseline } from '../baselines';
import { holdOut } from '../data/split';
import { quantile } from '../util/stats';
import { flowLogProb } from '../flow/flowModel';
import { initFlowParams } from '../flow/params';
import { makeFlowSpec } from '../flow/spec';
import { cfObjective } from '../train/objectives/cf';
import { nllObjective } from '../train/objectives/nll';
import { oeObjective } from '../train/objectives/oe';
import type { EpsTrackingRule } from '../train/epsTracking';
import { trainFlow, type Contrast, type TrainProgress, type TrainResult } from '../train/trainer';
import { UserError, userError } from '../util/errors';
import { matrixHash } from '../util/hash';
import { takeRows, type Matrix } from '../util/matrix';
import { Rng } from '../util/rng';
import type { DetectorConfig } from './config';
import { applyInlierCountRule } from './inlierCountRule';
import { checkContrast, FLOW_METHODS, type Method } from './methods';
import { applyPreprocessing, fitPreprocessing, preprocessingNotes } from './preprocess';
import type { Detector, DetectorFlow, EpsInfo, PhaseSummary } from './types';
import { DETECTOR_FORMAT_VERSION } from './types';

export { defaultDetectorConfig, type DetectorConfig, type EpsConfig } from './config';

export interface FitInput {
  /** raw inlier features (rows × columns) */
  inliers: Matrix;
  columns: string[];
  /** raw contrast features, 'permutation' (product of the inlier marginals) or null */
  contrast: Matrix | 'permutation' | null;
  source?: string;
}

export interface FitOptions {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
  appVersion?: string;
}

/** A seeded sample of the product of the marginals: column j of row i from a random row. */
export function permutationSample(x: Matrix, rows: number, rng: Rng): Matrix {
  const out = new Float32Array(rows * x.cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < x.cols; j++) out[i * x.cols + j] = x.data[rng.int(x.rows) * x.cols + j];
  return { rows, cols: x.cols, data: out };
}

export async function fitDetector(
  input: FitInput,
  config: DetectorConfig,
  opts: FitOptions = {},
): Promise<Detector> {
  const { method } = config;
  const source = input.source ?? 'the inlier data';
  if (input.inliers.rows < 2) {
    throw new UserError(
      `${source} has ${input.inliers.rows} row(s); training needs at least 2`,
      'provide more inlier rows',
    );
  }
  checkContrast(method, input.contrast !== null);
  const t0 = performance.now();
  const preprocessing = fitPreprocessing(config.preprocess, input.inliers, input.columns, source);
  const x = applyPreprocessing(preprocessing, input.inliers, source);
  const rawContrast = input.contrast;
  const contrast: Contrast =
    rawContrast === null || rawContrast === 'permutation'
      ? rawContrast
      : applyPreprocessing(preprocessing, rawContrast, 'the contrast data');
  const notes = [...preprocessingNotes(preprocessing)];
  const rng = new Rng(config.train.seed);

  const meta: Detector['meta'] = {
    createdAt: new Date().toISOString(),
    appVersion: opts.appVersion ?? '0.0.0',
    seed: config.train.seed,
    config,
    backend: null,
    contrastKind: rawContrast === null ? 'none' : rawContrast === 'permutation' ? 'permutation' : 'data',
    dataHashes: {
      inliers: matrixHash(input.inliers),
      contrast: rawContrast && rawContrast !== 'permutation' ? matrixHash(rawContrast) : null,
    },
    inlierRows: input.inliers.rows,
    contrastRows: rawContrast && rawContrast !== 'permutation' ? rawContrast.rows : null,
    phases: [],
    seconds: 0,
    notes,
  };
  const detector: Detector = {
    format: 'cfstudio-detector',
    formatVersion: DETECTOR_FORMAT_VERSION,
    method,
    preprocessing,
    flows: [],
    baseline: null,
    eps: null,
    meta,
  };

  if (!FLOW_METHODS.includes(method)) {
    let c: Matrix | null = null;
    if (method === 'mse-ratio')
      c = contrast === 'permutation' ? permutationSample(x, x.rows, rng) : (contrast as Matrix);
    detector.baseline = fitBaseline(
      method as Exclude<Method, 'cf' | 'flow' | 'ratio' | 'oe'>,
      x,
      c,
      config.baseline,
    );
    meta.seconds = (performance.now() - t0) / 1000;
    return detector;
  }

  if (x.cols < 2) {
    throw new UserError(
      `a flow needs at least 2 feature columns; ${source} has ${x.cols} after preprocessing`,
      'add features, or use a baseline method (mse, knn, kde)',
    );
  }
  const backend: BackendInfo = await initTfjs();
  meta.backend = backend;
  const split = holdOut(x.rows, config.heldOutShare, rng.fork());
  const train = takeRows(x, split.train);
  const held = split.held.length > 0 ? takeRows(x, split.held) : null;
  if (config.sizing.rule === 'inlier-count') {
    // the flow's settings by the inlier count (inlierCountRule.ts), once; recorded as the config
    const chosen = applyInlierCountRule(config, train);
    config = chosen.config;
    meta.config = config;
    notes.push(chosen.note);
  }
  const spec = makeFlowSpec(x.cols, config.flow, config.train.seed);
  const run = async (phase: string, o: Partial<Parameters<typeof trainFlow>[0]>): Promise<TrainResult> => {
    const r = await trainFlow({
      spec,
      objective: nllObjective,
      inliers: train,
      heldOut: held,
      contrast: null,
      config: config.train,
      init: initFlowParams(spec, config.train.seed + 1),
      dataInit: true,
      phase,
      onProgress: opts.onProgress,
      signal: opts.signal,
      ...o,
    });
    meta.phases.push(summarize(phase, r));
    return r;
  };
  const flowOf = (role: DetectorFlow['role'], r: TrainResult): DetectorFlow => ({
    role,
    spec,
    params: r.params,
  });

  if (method === 'flow') {
    detector.flows.push(flowOf('inlier', await run('flow', {})));
  } else if (method === 'ratio') {
    detector.flows.push(flowOf('inlier', await run('inlier flow', {})));
    // qφ by maximum likelihood on the contrast; permutation contrast: a fresh sample of the
    // product of the inliers' marginals in every batch (as CF's contrast term sees it), not a
    // fixed sample, which qφ would memorise (see docs/small-folders.md, "Flow-ratio")
    const r = await run('contrast flow', {
      inliers: contrast === 'permutation' ? train : (contrast as Matrix),
      inlierSampling: contrast === 'permutation' ? 'permutation' : 'rows',
      heldOut: null,
      config: { ...config.train, seed: config.train.seed + 7, restoreBest: false },
    });
    detector.flows.push(flowOf('contrast', r));
  } else if (method === 'oe') {
    const base = await run('flow', {});
    const r = await run('oe fine-tune', {
      objective: oeObjective(config.oe.lambda, config.oe.margin),
      contrast,
      init: base.params,
      dataInit: false,
      config: { ...config.train, steps: config.oe.steps },
    });
    detector.flows.push(flowOf('inlier', r));
  } else {
    // cf
    let eps: EpsInfo;
    let tracking: EpsTrackingRule | undefined;
    if (config.eps.mode === 'fixed') eps = { mode: 'fixed', value: config.eps.value };
    else if (config.eps.mode === 'tracking') {
      const { quantile: q, margin, minContrastShare } = config.eps;
      tracking = { quantile: q, margin, minContrastShare };
      eps = { mode: 'tracking', value: NaN, ...tracking };
    } else {
      if (!held || held.rows < 10) {
        throw userError(
          'auto-eps-too-few-held-out',
          `auto ε needs at least 10 held-out inlier rows; ${held?.rows ?? 0} are held out`,
          { heldOut: held?.rows ?? 0, min: 10 },
          'use a fixed ε or more inlier rows',
        );
      }
      // paper: train a plain flow, take a quantile of the inliers' log-density, add an offset.
      // We take it on held-out inliers (METHOD §3: on training inliers it sits too high).
      const pre = await run('auto-ε flow', {});
      const lp = flowLogProb({ spec, params: pre.params }, held);
      const q = quantile(lp, config.eps.quantile);
      eps = {
        mode: 'auto',
        value: q + config.eps.offset,
        quantile: config.eps.quantile,
        offset: config.eps.offset,
        heldOutQuantileLogp: q,
      };
    }
    detector.eps = eps;
    const r = await run('cf', { objective: cfObjective, contrast, eps: eps.value, epsTracking: tracking });
    if (tracking) eps.value = r.eps!;
    eps.contrastAboveEps = r.contrastAboveEps;
    if (r.contrastAboveEps < 0.005) {
      notes.push(
        `the contrast term was off: ${(r.contrastAboveEps * 100).toFixed(1)} % of contrast points had log p above ε = ${eps.value.toFixed(3)} at the end of training, so CF behaved like a plain Flow; try a higher ε`,
      );
    }
    detector.flows.push(flowOf('inlier', r));
  }
  meta.seconds = (performance.now() - t0) / 1000;
  return detector;
}

function summarize(phase: string, r: TrainResult): PhaseSummary {
  return {
    phase,
    steps: r.steps,
    seconds: r.seconds,
    stepsPerSec: r.stepsPerSec,
    stoppedEarly: r.stoppedEarly,
    finalHeldOutNll: r.finalHeldOutNll,
    contrastAboveEps: Number.isNaN(r.contrastAboveEps) ? null : r.contrastAboveEps,
    history: r.history,
    trainBackend: r.backend,
  };
}
