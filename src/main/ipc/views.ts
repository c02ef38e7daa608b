/**
 * The IPC views (src/shared/ipc.ts) of the application layer's domain objects: the one place
 * where the renderer's contract meets engine/studio. The renderer sees plain data only.
 */
import type {
  DatasetDetail as DatasetDetailView,
  DatasetInfo as DatasetInfoView,
  ExtractorInfo as ExtractorInfoView,
  MethodId,
  MethodInfo as MethodInfoView,
  RunDetail as RunDetailView,
  RunSummary as RunSummaryView,
} from '../../shared/ipc';
import type {
  DatasetDetail,
  DatasetInfo,
  ExtractorInfo,
  Method,
  MethodInfo,
  RunDetail,
  RunSummary,
} from '../engine/studio';

/** Compile-time link between the contract's method ids and the engine's registry. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const methodIdsAgree: Same<MethodId, Method> = true;
void methodIdsAgree;

export function methodView(m: MethodInfo): MethodInfoView {
  return {
    id: m.id,
    label: m.label,
    shortLabel: m.shortLabel,
    usesContrast: m.needsContrast,
    flow: m.flow,
    exportable: m.exportable,
    description: m.description,
  };
}

export function datasetView(d: DatasetInfo): DatasetInfoView {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    root: d.root,
    created: d.created,
    ok: d.ok,
    skipped: d.skipped,
    labels: d.labels,
  };
}

export function datasetDetailView(d: DatasetDetail): DatasetDetailView {
  return {
    ...datasetView(d),
    skippedFiles: d.skippedFiles,
    featureCounts: Object.fromEntries(d.features.map((f) => [f.extractorId, f.withFeatures])),
  };
}

export function extractorView(e: ExtractorInfo): ExtractorInfoView {
  return { id: e.id, name: e.name, path: e.path, sha256: e.sha256, spec: e.spec, available: e.available };
}

export function runSummaryView(r: RunSummary): RunSummaryView {
  return {
    id: r.id,
    name: r.name,
    method: r.method as RunSummaryView['method'],
    methodLabel: r.methodLabel,
    status: r.status,
    kind: r.kind,
    parentRunId: r.parentRunId,
    detectorRunId: r.detectorRunId,
    inliers: r.inliers,
    contrast: r.contrast,
    test: r.test,
    eps: r.eps,
    auroc: r.auroc,
    aupr: r.aupr,
    meanAuroc: r.meanAuroc,
    trainSeconds: r.trainSeconds,
    backend: r.backend,
    steps: r.steps,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    error: r.error,
    perGroup: r.perGroup,
  };
}

export function runDetailView(d: RunDetail): RunDetailView {
  return {
    ...runSummaryView(d),
    config: d.config,
    metrics: d.metrics,
    losses: d.losses,
    histograms: d.histograms,
    roc: d.roc,
    aurocNote: d.aurocNote,
    picks: d.picks.map((p) => ({
      group: p.group,
      rank: p.rank,
      itemId: p.itemId,
      score: p.score,
      relPath: p.relPath,
      label: p.label,
    })),
    threshold: d.threshold,
    scored: d.scored,
    children: d.children,
    live: d.live,
    marks: d.marks,
    feedback: d.feedback,
    retrain: d.retrain,
    decision: d.decision,
    distributions: d.distributions,
  };
}
