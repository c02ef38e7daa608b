/**
 * The recorded runs as a front end shows them: the list (summaries), one run in detail (loss
 * curve, score histograms per group, ROC, Figure 5 picks, threshold), a page of its ranked
 * items, and removal.
 */
import path from 'node:path';
import { histogramRange, histograms } from '../eval/histogram';
import {
  averagePrecision,
  fprAtTpr,
  metricsAtThreshold,
  type ThresholdMetrics,
} from '../eval/decisionMetrics';
import { rocCurve, thinRoc } from '../eval/roc';
import { isMethod, METHOD_LABELS } from '../detector/methods';
import type {
  PickGroup,
  RetrainComparison,
  RunKind,
  RunProgress,
  RunRow,
  RunStatus,
  Workspace,
} from '../store';
import { feedbackForDetector, type MarkCounts } from './feedback';
import { detectorRunOf, getRun } from './detectorOfRun';
import { rankedRun, type RankedItem } from './rankedRun';
import { invalidateRunViews } from './runViewCache';
import { refLabel } from './selection';
import { runThresholdOrNull, type ThresholdInfo } from './threshold';

const HISTOGRAM_BINS = 40;
const ROC_POINTS = 400;

export interface RunSummary {
  id: number;
  name: string | null;
  kind: RunKind;
  /** a method id, or 'protocol:one-vs-rest' / 'protocol:dataset-vs-dataset' */
  method: string;
  methodLabel: string;
  status: RunStatus;
  parentRunId: number | null;
  /** the run whose detector this run scores with (itself, its parent for a score run; null: none) */
  detectorRunId: number | null;
  inliers: string | null;
  contrast: string | null;
  test: string | null;
  eps: number | null;
  auroc: number | null;
  /** average precision over the same scores as `auroc` (train runs with an evaluation) */
  aupr: number | null;
  /** protocol runs: mean AUROC per method over the inlier classes */
  meanAuroc: Record<string, number | null> | null;
  /** AUROC per anomaly group (a label of the evaluation data, or a dataset) */
  perGroup: Record<string, number>;
  /** seconds of training (or scoring, for a score run) */
  trainSeconds: number | null;
  backend: string | null;
  steps: number | null;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
}

function feedbackCounts(ws: Workspace, detectorRunId: number | null): RunDetail['feedback'] {
  if (detectorRunId === null) return null;
  const f = feedbackForDetector(ws, detectorRunId);
  return { normal: f.normal.length, anomaly: f.anomaly.length, fromRuns: f.fromRuns };
}

function finite(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function runSummary(ws: Workspace, run: RunRow): RunSummary {
  const sel = run.selections;
  const perGroup: Record<string, number> = {};
  let eps: number | null = null;
  let auroc: number | null = null;
  let aupr: number | null = null;
  let steps: number | null = null;
  if (run.kind === 'train') {
    for (const [k, v] of Object.entries(run.metrics?.perGroup ?? {}))
      if (finite(v) !== null) perGroup[k] = v!;
    eps = finite(run.metrics?.eps?.value);
    auroc = finite(run.metrics?.auroc);
    aupr = finite(run.metrics?.aupr);
    steps = run.config.train.steps;
  } else if (run.kind === 'import') {
    eps = finite(run.metrics?.eps?.value);
    steps = run.config.detector?.train.steps ?? null;
  }
  return {
    id: run.id,
    name: run.name,
    kind: run.kind,
    method: run.method,
    methodLabel: isMethod(run.method) ? METHOD_LABELS[run.method] : run.method,
    status: run.status,
    parentRunId: run.parentRunId,
    detectorRunId: detectorRunOf(run),
    // an imported detector's training data is not in this workspace
    inliers: run.kind === 'import' ? 'imported' : refLabel(ws, sel.inliers),
    contrast:
      run.kind === 'import'
        ? run.metrics?.dataHashes.contrast
          ? 'imported'
          : null
        : refLabel(ws, sel.contrast),
    test: refLabel(ws, sel.test ?? sel.scored),
    eps,
    auroc,
    aupr,
    meanAuroc: run.kind === 'protocol' ? (run.metrics?.meanAuroc ?? null) : null,
    perGroup,
    trainSeconds: finite(run.timings?.trainSeconds) ?? finite(run.timings?.scoreSeconds),
    backend: run.backend,
    steps,
    startedAt: run.started,
    finishedAt: run.finished,
    error: run.error,
  };
}

/** Runs of the workspace, newest first: all, or only top-level ones (no protocol children). */
export function listRuns(ws: Workspace, o: { topLevel?: boolean } = {}): RunSummary[] {
  return ws.runs.list(o.topLevel ? { parentRunId: null } : {}).map((r) => runSummary(ws, r));
}

export interface ScoredItem {
  itemId: number;
  datasetId: number;
  rank: number;
  score: number;
  relPath: string;
  label: string;
  group: string;
  anomaly: boolean;
  /** at or above the run's current threshold */
  flagged: boolean;
  /** the analyst's mark: 'normal' (a false alarm), 'anomaly' (confirmed), or none */
  mark: 'normal' | 'anomaly' | null;
}

export interface RunHistograms {
  /** bin edges, counts.length + 1 values, shared by every group */
  edges: number[];
  /** when set, the last bin also counts the (few) scores above this value: a long tail is cut */
  clippedAbove: number | null;
  series: { group: string; anomaly: boolean; counts: number[] }[];
}

export interface PickInfo {
  group: PickGroup;
  rank: number;
  itemId: number;
  score: number;
  relPath: string;
  label: string;
  /** absolute path of the image */
  path: string;
}

export interface RunDetail extends RunSummary {
  config: Record<string, unknown>;
  metrics: Record<string, unknown> | null;
  losses: { step: number; inlierNll: number; contrastNll: number | null; contrastAboveEps?: number | null }[];
  histograms: RunHistograms | null;
  roc: { fpr: number[]; tpr: number[]; auroc: number } | null;
  /** where the AUROC's anomalies come from, and whether the detector saw them in training */
  aurocNote: string | null;
  /** the paper's Fig. 5 picks: 3 lowest-score inliers, 3 hardest anomalies, 3 strangest inliers */
  picks: PickInfo[];
  threshold: ThresholdInfo | null;
  /** number of scored items */
  scored: number;
  /** child runs: a protocol's per-class runs, a detector's score runs */
  children: number[];
  /** a running run's latest progress (phase, step, rate, ETA, share above ε), else null */
  live: RunProgress | null;
  /** the analyst's marks on this run's list */
  marks: MarkCounts;
  /**
   * the marks a retrain from this run would use: those on its detector's run and on every list
   * scored with that detector (the latest mark of an image wins); null: the run has no detector
   */
  feedback: (MarkCounts & { fromRuns: number[] }) | null;
  /** a run retrained with feedback: before/after against the run it came from */
  retrain: RetrainComparison | null;
  /** AUPR, FPR at 95 % TPR, and precision/recall/F1 at the threshold (needs both classes) */
  decision: {
    aupr: number;
    fprAt95Tpr: number;
    atThreshold: ThresholdMetrics | null;
  } | null;
  /**
   * The score distribution of each group, as its 101 percentiles (0 %, 1 %, …, 100 %) and count:
   * enough to draw the paper's Fig. 1/8 densities on any axis the app chooses.
   */
  distributions: { group: string; anomaly: boolean; count: number; percentiles: number[] }[];
}

function percentiles(values: number[]): number[] {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return [];
  return Array.from({ length: 101 }, (_, p) => {
    const x = (p / 100) * (s.length - 1);
    const lo = Math.floor(x);
    const hi = Math.min(s.length - 1, lo + 1);
    return s[lo] + (s[hi] - s[lo]) * (x - lo);
  });
}

/** The scores of each group of a ranked list. */
function groupsOf(items: readonly RankedItem[]): Map<string, { anomaly: boolean; scores: number[] }> {
  const groups = new Map<string, { anomaly: boolean; scores: number[] }>();
  for (const it of items) {
    const g = groups.get(it.group) ?? { anomaly: it.anomaly, scores: [] };
    g.scores.push(it.score);
    groups.set(it.group, g);
  }
  return groups;
}

function scoreHistograms(items: readonly RankedItem[]): RunHistograms | null {
  if (items.length === 0) return null;
  const groups = groupsOf(items);
  // inlier groups first, then by name
  const names = [...groups.keys()].sort(
    (a, b) => Number(groups.get(a)!.anomaly) - Number(groups.get(b)!.anomaly) || a.localeCompare(b),
  );
  const range = histogramRange(items.map((i) => i.score));
  const h = histograms(
    names.map((name) => ({ name, scores: groups.get(name)!.scores })),
    HISTOGRAM_BINS,
    range.clippedAbove === null ? undefined : { lo: range.lo, hi: range.clippedAbove },
  );
  return {
    edges: h.edges,
    clippedAbove: range.clippedAbove,
    series: h.groups.map((g) => ({ group: g.name, anomaly: groups.get(g.name)!.anomaly, counts: g.counts })),
  };
}

export function runDetail(ws: Workspace, id: number): RunDetail {
  const view = rankedRun(ws, id);
  const run = getRun(ws, id);
  const summary = runSummary(ws, run);
  const labels = view.items.map((i) => i.anomaly);
  const scores = view.items.map((i) => i.score);
  const bothClasses = labels.some(Boolean) && labels.some((l) => !l);
  const threshold = runThresholdOrNull(ws, id);
  const roc = bothClasses
    ? {
        ...thinRoc(
          rocCurve(
            view.items.map((i) => i.score),
            labels,
          ),
          ROC_POINTS,
        ),
        auroc: summary.auroc ?? NaN,
      }
    : null;
  const source = view.evaluation?.anomalySource;
  const aurocNote =
    summary.auroc === null
      ? null
      : source === 'contrast'
        ? 'held-out inliers vs the contrast images (which the detector saw in training, so this AUROC is optimistic); add a labelled test set for an honest figure'
        : source === 'test'
          ? 'held-out inliers and the test set (inlier labels vs the rest)'
          : 'from the run’s test set';
  const roots = new Map(ws.datasets.list().map((d) => [d.id, d.root]));
  return {
    ...summary,
    config: JSON.parse(JSON.stringify(run.config)) as Record<string, unknown>,
    metrics:
      run.metrics === null ? null : (JSON.parse(JSON.stringify(run.metrics)) as Record<string, unknown>),
    losses: ws.runs.losses(id),
    histograms: scoreHistograms(view.items),
    roc,
    aurocNote,
    picks: ws.scores.picks(id).map((p) => ({
      group: p.group,
      rank: p.rank,
      itemId: p.itemId,
      score: p.score,
      relPath: p.relPath,
      label: p.label,
      path: path.join(roots.get(p.datasetId) ?? '', p.relPath),
    })),
    threshold,
    scored: view.items.length,
    children: ws.runs.list({ parentRunId: id }).map((r) => r.id),
    live: run.status === 'running' ? run.progress : null,
    marks: {
      normal: view.items.filter((i) => i.mark === 'normal').length,
      anomaly: view.items.filter((i) => i.mark === 'anomaly').length,
    },
    feedback: feedbackCounts(ws, detectorRunOf(run)),
    retrain: run.kind === 'train' ? (run.metrics?.retrain ?? null) : null,
    decision: bothClasses
      ? {
          aupr: averagePrecision(scores, labels),
          fprAt95Tpr: fprAtTpr(scores, labels, 0.95),
          atThreshold: threshold ? metricsAtThreshold(scores, labels, threshold.threshold) : null,
        }
      : null,
    distributions: [...groupsOf(view.items)].map(([group, g]) => ({
      group,
      anomaly: g.anomaly,
      count: g.scores.length,
      percentiles: percentiles(g.scores),
    })),
  };
}

/** A ranked item as a front end sees it, flagged against the current threshold. */
export function scoredItem(it: RankedItem, threshold: number | null): ScoredItem {
  return {
    itemId: it.itemId,
    datasetId: it.datasetId,
    rank: it.rank,
    score: it.score,
    relPath: it.relPath,
    label: it.label,
    group: it.group,
    anomaly: it.anomaly,
    flagged: threshold !== null && it.score >= threshold,
    mark: it.mark,
  };
}

/** A page of the run's ranked items (all, or one group's). */
export function scorePage(
  ws: Workspace,
  id: number,
  page: { offset: number; limit: number; group?: string | null },
): { total: number; items: ScoredItem[] } {
  const view = rankedRun(ws, id);
  const threshold = runThresholdOrNull(ws, id)?.threshold ?? null;
  const all = page.group ? view.items.filter((i) => i.group === page.group) : view.items;
  return {
    total: all.length,
    items: all.slice(page.offset, page.offset + page.limit).map((it) => scoredItem(it, threshold)),
  };
}

/** Removes a run with its child runs (a protocol's per-class runs, a detector's score runs). */
export function removeRun(ws: Workspace, id: number): void {
  const run = getRun(ws, id);
  const children = ws.runs.list({ parentRunId: run.id }).map((r) => r.id);
  ws.runs.remove(run.id);
  invalidateRunViews(ws, [run.id, ...children]);
}
