/**
 * A training recorded in the workspace: the run row (config, data, extractor, status, backend,
 * timings, metrics), its loss curve, the model bytes, and — when a test set is given — its
 * scores, AUROC and Figure 5 picks. A failed or cancelled run is recorded as such. Every use
 * case that trains on workspace data (a detector, a protocol's per-class runs) records through
 * here.
 */
import { createHash } from 'node:crypto';
import type { DetectorConfig } from '../detector/config';
import type { Detector } from '../detector/types';
import { runTrainJob } from '../jobs/runTrainJob';
import { encodeDetector } from '../model/cfdet';
import type { EvaluationInfo, ExtractorRow, LossRow, TrainMetrics, Workspace } from '../store';
import type { TrainProgress } from '../train/trainer';
import { CancelledError } from '../util/errors';
import type { Matrix } from '../util/matrix';
import { appVersion } from '../util/version';
import { evaluateRun, type EvalMetrics, type PickWithItem, type TestSet } from './evaluateRun';
import { selectionLabel, toRef, type Selection } from './selection';

export interface TrainingInput {
  name?: string;
  config: DetectorConfig;
  inliers: { selection: Selection; features: Matrix };
  /** contrast features, 'permutation', or null (methods without contrast) */
  contrast: { selection: Selection; features: Matrix } | 'permutation' | null;
  extractor: ExtractorRow | null;
  test?: TestSet & { selection: Selection };
  parentRunId?: number | null;
  /** how an app-style run built its evaluation set (stored with the metrics) */
  evaluation?: EvaluationInfo | null;
}

export interface TrainingResult {
  runId: number;
  detector: Detector;
  bytes: Buffer;
  metrics: TrainMetrics;
  /** the test set's metrics (null without a test set) */
  evalMetrics: EvalMetrics | null;
  picks: PickWithItem[];
  testScores: Float32Array | null;
}

/** The data a training run names, by role (stored as its selections). */
export interface TrainingRunMeta {
  name?: string | null;
  config: DetectorConfig;
  inliers: Selection;
  contrast: Selection | 'permutation' | null;
  test?: Selection | null;
  extractor: ExtractorRow | null;
  parentRunId?: number | null;
}

/**
 * Records a training run that starts now (status 'running'), before any data is loaded, so that
 * front ends can follow it from the first second; recordTrainingRun then fills it in.
 */
export function startTrainingRun(ws: Workspace, m: TrainingRunMeta): number {
  const runId = ws.runs.create({
    kind: 'train',
    name: m.name ?? null,
    method: m.config.method,
    config: m.config,
    extractorId: m.extractor?.id ?? null,
    selections: {
      inliers: toRef(m.inliers),
      ...(m.contrast ? { contrast: m.contrast === 'permutation' ? 'permutation' : toRef(m.contrast) } : {}),
      ...(m.test ? { test: toRef(m.test) } : {}),
    },
    parentRunId: m.parentRunId ?? null,
  });
  ws.runs.start(runId, null);
  return runId;
}

/** Ends a run that failed or was cancelled before or during training. */
export function failRun(ws: Workspace, runId: number, e: unknown, timings?: Record<string, number>): void {
  ws.runs.finish(runId, {
    status: e instanceof CancelledError ? 'cancelled' : 'failed',
    error: (e as Error).message,
    timings,
  });
}

/**
 * Live progress of a running run for views in any process: the run's progress and its loss
 * curve so far, written at most once a second (the final curve replaces it at the end).
 */
export function liveRunWriter(ws: Workspace, runId: number) {
  let last = 0;
  let pending: {
    step: number;
    inlierNll: number;
    contrastNll: number | null;
    contrastAboveEps: number | null;
  }[] = [];
  let offset = 0;
  let phase = '';
  let lastStep = 0;
  return {
    extract(selection: string, done: number, total: number, rate: number, etaSeconds: number | null): void {
      const now = Date.now();
      if (now - last < 1000 && done < total) return;
      last = now;
      ws.runs.setProgress(runId, {
        phase: `extract ${selection}`,
        done,
        total,
        rate,
        etaSeconds,
        updated: new Date().toISOString(),
      });
    },
    train(p: TrainProgress): void {
      // phases (e.g. OE's plain flow, then fine-tuning) continue one curve, as the final record does
      if (phase && p.phase !== phase) offset += lastStep;
      phase = p.phase;
      lastStep = p.step;
      const contrastNll = Number.isFinite(p.contrastNll) ? p.contrastNll : null;
      pending.push({
        step: offset + p.step,
        inlierNll: p.inlierNll,
        contrastNll,
        contrastAboveEps: contrastNll === null ? null : p.contrastAboveEps,
      });
      const now = Date.now();
      if (now - last < 1000 && p.step < p.totalSteps) return;
      last = now;
      ws.transaction(() => {
        ws.runs.addLosses(runId, pending);
        ws.runs.setProgress(runId, {
          phase: `train ${p.phase}`,
          done: p.step,
          total: p.totalSteps,
          rate: p.stepsPerSec,
          etaSeconds: Number.isFinite(p.etaSeconds) ? p.etaSeconds : null,
          contrastAboveEps: contrastNll === null ? null : p.contrastAboveEps,
          updated: new Date().toISOString(),
        });
      });
      pending = [];
    },
  };
}

export async function recordTrainingRun(
  ws: Workspace,
  input: TrainingInput,
  opts: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal; runId?: number } = {},
): Promise<TrainingResult> {
  const c = input.contrast;
  const runId =
    opts.runId ??
    startTrainingRun(ws, {
      name: input.name,
      config: input.config,
      inliers: input.inliers.selection,
      contrast: c === 'permutation' ? 'permutation' : (c?.selection ?? null),
      test: input.test?.selection ?? null,
      extractor: input.extractor,
      parentRunId: input.parentRunId,
    });
  const live = liveRunWriter(ws, runId);
  const t0 = performance.now();
  try {
    const det = await runTrainJob(
      {
        inliers: input.inliers.features,
        columns: [],
        contrast: c === 'permutation' ? 'permutation' : c ? c.features : null,
        source: selectionLabel(input.inliers.selection),
      },
      input.config,
      {
        onProgress: (p) => {
          live.train(p);
          opts.onProgress?.(p);
        },
        signal: opts.signal,
        appVersion: appVersion(),
      },
    );
    if (input.extractor) {
      det.meta.extractor = {
        name: input.extractor.name,
        sha256: input.extractor.fileHash,
        spec: input.extractor.inputSpec,
      };
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const bytes = encodeDetector(det);
    const losses: LossRow[] = [];
    let offset = 0;
    for (const ph of det.meta.phases) {
      for (const h of ph.history) {
        const contrastNll = Number.isFinite(h.contrastNll) ? h.contrastNll : null;
        losses.push({
          step: offset + h.step,
          inlierNll: h.inlierNll,
          contrastNll,
          contrastAboveEps: contrastNll === null ? null : h.contrastAboveEps,
        });
      }
      offset += ph.steps;
    }
    ws.transaction(() => {
      ws.runs.addLosses(runId, losses);
      ws.models.put(runId, {
        format: 'cfdet',
        bytes,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    });
    const e0 = performance.now();
    const evaluation = input.test ? await evaluateRun(ws, runId, det, input.test) : null;
    const metrics: TrainMetrics = {
      evaluation: input.evaluation ?? null,
      ...(evaluation?.metrics ?? {}),
      eps: det.eps,
      contrastAboveEps: det.eps?.contrastAboveEps ?? null,
      phases: det.meta.phases.map((p) => ({
        phase: p.phase,
        steps: p.steps,
        stepsPerSec: p.stepsPerSec,
        finalHeldOutNll: p.finalHeldOutNll,
        stoppedEarly: p.stoppedEarly,
        trainBackend: p.trainBackend ?? null,
      })),
      notes: det.meta.notes,
    };
    ws.runs.finish(runId, {
      status: 'done',
      // the training backend of the flows ('ort-cpu', 'tfjs-wasm'); baselines: the tfjs backend
      backend: det.meta.phases[0]?.trainBackend ?? det.meta.backend?.backend ?? 'none',
      metrics,
      timings: { trainSeconds, evalSeconds: (performance.now() - e0) / 1000 },
    });
    return {
      runId,
      detector: det,
      bytes,
      metrics,
      evalMetrics: evaluation?.metrics ?? null,
      picks: evaluation?.picks ?? [],
      testScores: evaluation?.scores ?? null,
    };
  } catch (e) {
    failRun(ws, runId, e, { trainSeconds: (performance.now() - t0) / 1000 });
    throw e;
  }
}
