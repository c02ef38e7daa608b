/**
 * A training run recorded in the workspace: the run row (config, data, extractor, status,
 * backend, timings, metrics), its loss curve, the model bytes, and — when a test set is given —
 * its scores, AUROC and Figure 5 picks. A failed or cancelled run is recorded as such.
 */
import { createHash } from 'node:crypto';
import type { DetectorConfig } from '../detector/fitDetector';
import type { Detector } from '../detector/types';
import { runTrainJob } from '../jobs/runTrainJob';
import { encodeDetector } from '../model/cfdet';
import type { ExtractorRow, Workspace } from '../store';
import type { TrainProgress } from '../train/trainer';
import { CancelledError } from '../util/errors';
import { appVersion } from '../util/version';
import type { Matrix } from '../util/matrix';
import { evaluateRun, type EvalMetrics, type PickWithItem, type TestSet } from './evaluateRun';
import { selectionLabel, type Selection } from './selection';

export interface TrainRunInput {
  name?: string;
  config: DetectorConfig;
  inliers: { selection: Selection; features: Matrix };
  /** contrast features, 'permutation', or null (methods without contrast) */
  contrast: { selection: Selection; features: Matrix } | 'permutation' | null;
  extractor: ExtractorRow | null;
  test?: TestSet & { selection: Selection };
  parentRunId?: number | null;
  /** stored with the run's metrics (e.g. how the app built its evaluation set) */
  extraMetrics?: Record<string, unknown>;
}

export interface TrainRunResult {
  runId: number;
  detector: Detector;
  bytes: Buffer;
  metrics: (EvalMetrics & Record<string, unknown>) | null;
  picks: PickWithItem[];
  testScores: Float32Array | null;
}

export async function trainRun(
  ws: Workspace,
  input: TrainRunInput,
  opts: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainRunResult> {
  const c = input.contrast;
  const runId = ws.runs.create({
    name: input.name ?? null,
    method: input.config.method,
    config: input.config,
    inlierDatasetId: input.inliers.selection.datasetId,
    contrastDatasetId: c && c !== 'permutation' ? c.selection.datasetId : null,
    testDatasetId: input.test?.selection.datasetId ?? null,
    extractorId: input.extractor?.id ?? null,
    selection: {
      inliers: selectionLabel(input.inliers.selection),
      contrast: c === 'permutation' ? 'permutation' : c ? selectionLabel(c.selection) : null,
      test: input.test ? selectionLabel(input.test.selection) : null,
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
    let evaluation: Awaited<ReturnType<typeof evaluateRun>> | null = null;
    const e0 = performance.now();
    if (input.test) evaluation = await evaluateRun(ws, runId, det, input.test);
    const metrics = {
      ...(input.extraMetrics ?? {}),
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
      metrics: evaluation ? (metrics as TrainRunResult['metrics']) : null,
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
