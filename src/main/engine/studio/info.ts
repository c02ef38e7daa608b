/**
 * What the engine can say about itself and about model files: the training backends (which one
 * runs, and why the others did not), a detector file's contents, an exported ONNX model's
 * metadata.
 */
import { initTfjs, type BackendInfo } from '../backend/tfjsBackend';
import { providerReport, requestedDevice } from '../backend/ortProviders';
import { describeTrainBackend } from '../backend/trainBackend';
import { inputColumns } from '../detector/preprocess';
import type { Detector } from '../detector/types';
import { readOnnxModelInfo } from '../features/onnxMetadata';
import { loadDetector } from '../model/cfdet';
import { appVersion } from '../util/version';

export interface BackendReport {
  appVersion: string;
  node: string;
  platform: string;
  /** the TensorFlow.js backend (baselines, fallback trainer) and the attempts before it */
  training: BackendInfo;
  /** the backend flows train on ('ort-<provider>' or 'tfjs-<backend>') and why */
  flowTraining: { backend: string; detail: string; requested: string };
  /** ONNX Runtime's execution providers: what this build offers, the device asked for, what can run */
  onnxRuntime: ReturnType<typeof providerReport>;
}

export async function backendReport(): Promise<BackendReport> {
  const info = await initTfjs();
  const trainer = await describeTrainBackend();
  return {
    appVersion: appVersion(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    training: info,
    flowTraining: { backend: trainer.name, detail: trainer.detail, requested: trainer.decision.requested },
    onnxRuntime: providerReport(),
  };
}

const flowBackends = new Map<string, Promise<{ name: string; detail: string }>>();

/** The backend flows will train on, asked once per process and device (choosing may load ONNX Runtime or tfjs). */
export function flowTrainingBackend(): Promise<{ name: string; detail: string }> {
  const device = requestedDevice();
  let p = flowBackends.get(device);
  if (!p) {
    p = describeTrainBackend()
      .then(({ name, detail }) => ({ name, detail }))
      .catch((e: unknown) => ({
        name: 'none',
        detail: `no training backend could start: ${(e as Error).message}`,
      }));
    flowBackends.set(device, p);
  }
  return p;
}

/** What a detector holds: method, preprocessing, ε, flows, training, data hashes, versions. */
export function detectorSummary(det: Detector, file?: string): Record<string, unknown> {
  return {
    file,
    method: det.method,
    formatVersion: det.formatVersion,
    preprocessing: det.preprocessing.kind,
    inputColumns: inputColumns(det.preprocessing),
    eps: det.eps,
    flows: det.flows.map((f) => ({
      role: f.role,
      dim: f.spec.dim,
      blocks: f.spec.blocks,
      hidden: f.spec.hidden,
      clamp: f.spec.clamp,
    })),
    baseline: det.baseline ? { kind: det.baseline.kind, params: det.baseline.params } : null,
    backend: det.meta.backend
      ? {
          backend: det.meta.backend.backend,
          package: det.meta.backend.package,
          attempts: det.meta.backend.attempts,
        }
      : null,
    training: det.meta.phases.map((p) => ({
      phase: p.phase,
      steps: p.steps,
      seconds: +p.seconds.toFixed(2),
      stepsPerSec: +p.stepsPerSec.toFixed(2),
      finalHeldOutNll: p.finalHeldOutNll,
      contrastAboveEps: p.contrastAboveEps,
      ...(p.trainBackend ? { backend: p.trainBackend } : {}),
    })),
    seed: det.meta.seed,
    dataHashes: det.meta.dataHashes,
    rows: {
      inliers: det.meta.inlierRows,
      contrast: det.meta.contrastRows,
      contrastKind: det.meta.contrastKind,
    },
    seconds: det.meta.seconds,
    createdAt: det.meta.createdAt,
    appVersion: det.meta.appVersion,
    notes: det.meta.notes,
  };
}

/** A model file's description: an exported ONNX scorer's metadata, or a .cfdet's summary. */
export async function modelFileInfo(file: string): Promise<Record<string, unknown>> {
  if (/\.onnx$/i.test(file)) {
    const m = await readOnnxModelInfo(file);
    return { file, producer: `${m.producerName} ${m.producerVersion}`.trim(), ...m.metadataProps };
  }
  return detectorSummary(loadDetector(file), file);
}
