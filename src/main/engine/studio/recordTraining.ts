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
import type { EvaluationInfo, ExtractorRow, TrainMetrics, Workspace } from '../store';
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

export async function recordTrainingRun(
  ws: Workspace,
  input: TrainingInput,
  opts: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainingResult> {
  const c = input.contrast;
  const runId = ws.runs.create({
    kind: 'train',
    name: input.name ?? null,
    method: input.config.method,
    config: input.config,
    extractorId: input.extractor?.id ?? null,
    selections: {
      inliers: toRef(input.inliers.selection),
      ...(c ? { contrast: c === 'permutation' ? 'permutation' : toRef(c.selection) } : {}),
      ...(input.test ? { test: toRef(input.test.selection) } : {}),
    },
    parentRunId: input.parentRunId ?? null,
  });
  ws.runs.start(runId, null);
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
      { onProgress: opts.onProgress, signal: opts.signal, appVersion: appVersion() },
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
    const losses: { step: number; inlierNll: number; contrastNll: number | null }[] = [];
    let offset = 0;
    for (const ph of det.meta.phases) {
      for (const h of ph.history)
        losses.push({
          step: offset + h.step,
          inlierNll: h.inlierNll,
          contrastNll: Number.isFinite(h.contrastNll) ? h.contrastNll : null,
        });
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
    ws.runs.finish(runId, {
      status: e instanceof CancelledError ? 'cancelled' : 'failed',
      error: (e as Error).message,
      timings: { trainSeconds: (performance.now() - t0) / 1000 },
    });
    throw e;
  }
}
