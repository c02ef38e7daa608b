/**
 * What the app shows of a run, computed from the store: summary and detail (losses, score
 * histograms per group, ROC, Fig. 5 picks), the ranked list of scored items, one item with its
 * nearest training images, and the flagging threshold.
 *
 * Threshold from a target false-positive rate α on the n held-out inliers (scores s, sorted
 * descending s₍₁₎ ≥ … ≥ s₍ₙ₎): with k = ⌊α·n⌋, t = (s₍ₖ₎ + s₍ₖ₊₁₎)/2, so exactly k held-out
 * inliers score ≥ t and the held-out FPR is k/n ≤ α. An item is flagged when its score ≥ t.
 */
import path from 'node:path';
import type {
  Histograms as HistogramsView,
  ItemScoreDetail,
  PickInfo,
  RunDetail,
  RunSummary,
  ScorePage,
  ScoredItem,
  ThresholdInfo,
} from '../../../shared/ipc';
import { METHOD_LABELS, isMethod } from '../detector/methods';
import { histograms } from '../eval/histogram';
import { rocCurve } from '../eval/roc';
import type { ItemRow, RunRow, Workspace } from '../store';
import { UserError } from '../util/errors';
import type { EvaluationInfo } from './detectorRuns';
import { parseSelection } from './selection';

export const DEFAULT_TARGET_FPR = 0.05;
const HISTOGRAM_BINS = 40;
const ROC_POINTS = 400;

type Json = Record<string, unknown>;

function obj(v: unknown): Json {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {};
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.join(',');
  return null;
}

export function isScoreRun(run: RunRow): boolean {
  return obj(run.config).kind === 'score';
}

export function runSummary(run: RunRow): RunSummary {
  const m = obj(run.metrics);
  const config = obj(run.config);
  const sel = run.selection;
  const perGroup: Record<string, number> = {};
  for (const [k, v] of Object.entries(obj(m.perGroup))) if (num(v) !== null) perGroup[k] = v as number;
  return {
    id: run.id,
    name: run.name,
    method: run.method as RunSummary['method'],
    methodLabel: isMethod(run.method) ? METHOD_LABELS[run.method] : run.method,
    status: run.status,
    kind: isScoreRun(run) ? 'score' : 'train',
    parentRunId: run.parentRunId,
    inliers: str(sel.inliers),
    contrast: str(sel.contrast),
    test: str(sel.test) ?? str(sel.scored),
    eps: num(obj(m.eps).value),
    auroc: num(m.auroc),
    trainSeconds: num(run.timings?.trainSeconds) ?? num(run.timings?.scoreSeconds),
    backend: run.backend,
    steps: num(obj(config.train).steps),
    startedAt: run.started,
    finishedAt: run.finished,
    error: run.error,
    perGroup,
  };
}

interface RankedRun {
  run: RunRow;
  /** scored items, most anomalous first */
  items: (ScoredItem & { heldOut: boolean })[];
  heldOutScores: number[];
  evaluation: EvaluationInfo | null;
}

/** Builds and caches the ranked view of runs (scores do not change once a run is done). */
export class RunViews {
  private readonly cache = new Map<number, RankedRun>();
  private readonly neighborCache = new Map<
    number,
    { items: ItemRow[]; vectors: Float32Array; dim: number }
  >();

  constructor(private readonly ws: Workspace) {}

  /** Forget cached views of a run (after it changed or was removed). */
  invalidate(runId: number): void {
    this.cache.delete(runId);
    this.neighborCache.delete(runId);
  }

  private run(id: number): RunRow {
    const run = this.ws.runs.get(id);
    if (!run)
      throw new UserError(
        `run ${id} does not exist`,
        'it may have been removed; pick one from the runs list',
      );
    return run;
  }

  private ranked(id: number): RankedRun {
    // only finished runs are cached: their scores no longer change (removal invalidates)
    const hit = this.cache.get(id);
    if (hit) return hit;
    const run = this.run(id);
    const evaluation = (obj(run.metrics).evaluation as EvaluationInfo | undefined) ?? null;
    const scores = this.ws.scores.list(id);
    const byId = new Map(this.ws.items.byIds(scores.map((s) => s.itemId)).map((i) => [i.id, i]));
    const names = new Map(this.ws.datasets.list().map((d) => [d.id, d.name]));
    const heldOut = new Set(evaluation?.heldOutItemIds ?? []);
    const inlierLabels = new Set(evaluation?.testInlierLabels ?? []);
    const items: RankedRun['items'] = [];
    const heldOutScores: number[] = [];
    for (const s of scores) {
      const it = byId.get(s.itemId);
      if (!it) continue;
      const dsName = names.get(it.datasetId) ?? `dataset ${it.datasetId}`;
      let group: string;
      let anomaly = false;
      const isHeld = heldOut.has(it.id);
      if (isHeld) {
        group = 'inliers (held-out)';
        heldOutScores.push(s.score);
      } else if (evaluation?.anomalySource === 'test' && it.datasetId === evaluation.testDatasetId) {
        anomaly = !inlierLabels.has(it.label);
        group = `test: ${it.label || dsName}${anomaly ? '' : ' (inlier)'}`;
      } else if (evaluation?.anomalySource === 'contrast') {
        anomaly = true;
        group = `contrast: ${it.label || dsName}`;
      } else {
        group = it.label || dsName;
      }
      items.push({
        itemId: it.id,
        datasetId: it.datasetId,
        rank: 0,
        score: s.score,
        relPath: it.relPath,
        label: it.label,
        group,
        anomaly,
        // set per request from the current threshold (scores(), item(), csv())
        flagged: false,
        heldOut: isHeld,
      });
    }
    items.sort((a, b) => b.score - a.score || a.itemId - b.itemId);
    items.forEach((it, i) => (it.rank = i + 1));
    const view = { run, items, heldOutScores, evaluation };
    if (run.status === 'done') this.cache.set(id, view);
    return view;
  }

  list(): RunSummary[] {
    return this.ws.runs.list().map(runSummary);
  }

  detail(id: number): RunDetail {
    const view = this.ranked(id);
    const run = this.run(id);
    const summary = runSummary(run);
    const groups = new Map<string, { anomaly: boolean; scores: number[] }>();
    for (const it of view.items) {
      const g = groups.get(it.group) ?? { anomaly: it.anomaly, scores: [] };
      g.scores.push(it.score);
      groups.set(it.group, g);
    }
    let hist: HistogramsView | null = null;
    if (view.items.length > 0) {
      const names = [...groups.keys()].sort(
        (a, b) => Number(groups.get(a)!.anomaly) - Number(groups.get(b)!.anomaly) || a.localeCompare(b),
      );
      const range = histogramRange(view.items.map((i) => i.score));
      const h = histograms(
        names.map((name) => ({ name, scores: groups.get(name)!.scores })),
        HISTOGRAM_BINS,
        range.clippedAbove === null ? undefined : { lo: range.lo, hi: range.clippedAbove },
      );
      hist = {
        edges: h.edges,
        clippedAbove: range.clippedAbove,
        series: h.groups.map((g) => ({
          group: g.name,
          anomaly: groups.get(g.name)!.anomaly,
          counts: g.counts,
        })),
      };
    }
    const labels = view.items.map((i) => i.anomaly);
    let roc: RunDetail['roc'] = null;
    if (labels.some(Boolean) && labels.some((l) => !l)) {
      const c = rocCurve(
        view.items.map((i) => i.score),
        labels,
      );
      const step = Math.max(1, Math.ceil(c.fpr.length / ROC_POINTS));
      const fpr: number[] = [];
      const tpr: number[] = [];
      for (let i = 0; i < c.fpr.length; i += step) {
        fpr.push(c.fpr[i]);
        tpr.push(c.tpr[i]);
      }
      fpr.push(1);
      tpr.push(1);
      roc = { fpr, tpr, auroc: summary.auroc ?? NaN };
    }
    const source = view.evaluation?.anomalySource;
    const aurocNote =
      summary.auroc === null
        ? null
        : source === 'contrast'
          ? 'held-out inliers vs the contrast images (which the detector saw in training, so this AUROC is optimistic); add a labelled test set for an honest figure'
          : source === 'test'
            ? 'held-out inliers and the test set (inlier labels vs the rest)'
            : 'from the run’s test set';
    const byItem = new Map(view.items.map((i) => [i.itemId, i]));
    const picks: PickInfo[] = this.ws.scores.picks(id).map((p) => {
      const it = byItem.get(p.itemId);
      return {
        group: p.group,
        rank: p.rank,
        itemId: p.itemId,
        score: p.score,
        relPath: it?.relPath ?? '',
        label: it?.label ?? '',
      };
    });
    return {
      ...summary,
      config: obj(run.config),
      metrics: run.metrics === null ? null : obj(run.metrics),
      losses: this.ws.runs.losses(id).map((l) => ({
        step: l.step,
        inlierNll: l.inlierNll,
        contrastNll: l.contrastNll,
      })),
      histograms: hist,
      roc,
      aurocNote,
      picks,
      threshold: this.thresholdOrNull(id),
      scored: view.items.length,
    };
  }

  scores(id: number, offset: number, limit: number, group: string | null): ScorePage {
    const view = this.ranked(id);
    const threshold = this.thresholdOrNull(id)?.threshold ?? null;
    const all = group ? view.items.filter((i) => i.group === group) : view.items;
    return {
      total: all.length,
      items: all.slice(offset, offset + limit).map((it) => publicItem(it, threshold)),
    };
  }

  /** The run's threshold, or null when it has none (no held-out inliers, e.g. an imported detector). */
  thresholdOrNull(id: number): ThresholdInfo | null {
    try {
      return this.threshold(id);
    } catch (e) {
      if (e instanceof UserError) return null;
      throw e;
    }
  }

  /** The run's threshold: the stored one, else the default target FPR on its held-out inliers. */
  threshold(id: number): ThresholdInfo {
    const run = this.run(id);
    const stored = obj(obj(run.metrics).threshold);
    if (isScoreRun(run) && run.parentRunId !== null) {
      const parent = this.threshold(run.parentRunId);
      const view = this.ranked(id);
      return { ...parent, flagged: view.items.filter((i) => i.score >= parent.threshold).length };
    }
    const target = num(stored.targetFpr) ?? DEFAULT_TARGET_FPR;
    return this.computeThreshold(id, target);
  }

  private computeThreshold(id: number, targetFpr: number): ThresholdInfo {
    const view = this.ranked(id);
    if (view.heldOutScores.length === 0)
      throw new UserError(
        `run ${id} has no held-out inliers to pick a threshold from`,
        'train the detector in the app (it holds out 10 % of the inlier images), or score with a run that has them',
      );
    const threshold = thresholdFor(view.heldOutScores, targetFpr);
    const heldAbove = view.heldOutScores.filter((s) => s >= threshold).length;
    return {
      threshold,
      targetFpr,
      heldOutFpr: heldAbove / view.heldOutScores.length,
      heldOutCount: view.heldOutScores.length,
      flagged: view.items.filter((i) => i.score >= threshold).length,
    };
  }

  /** Picks the threshold for `targetFpr` and stores it with the run (the export carries it). */
  setThreshold(id: number, targetFpr: number): ThresholdInfo {
    const run = this.run(id);
    if (isScoreRun(run))
      throw new UserError(
        `run ${id} scores a folder with run ${run.parentRunId}'s detector`,
        `set the threshold on run ${run.parentRunId}; this list follows it`,
      );
    const t = this.computeThreshold(id, targetFpr);
    this.ws.runs.setMetrics(id, { ...obj(run.metrics), threshold: { threshold: t.threshold, targetFpr } });
    for (const r of this.ws.runs.list({ parentRunId: id })) this.invalidate(r.id);
    this.invalidate(id);
    return t;
  }

  /** One scored item, its absolute path, and its nearest training inliers (cosine distance). */
  item(runId: number, itemId: number, k: number): ItemScoreDetail {
    const view = this.ranked(runId);
    const scored = view.items.find((i) => i.itemId === itemId);
    if (!scored)
      throw new UserError(
        `item ${itemId} was not scored by run ${runId}`,
        'pick an image from this run’s gallery',
      );
    const item = this.ws.items.get(itemId)!;
    const ds = this.ws.datasets.get(item.datasetId);
    const threshold = this.thresholdOrNull(runId)?.threshold ?? null;
    return {
      ...publicItem(scored, threshold),
      path: ds ? path.join(ds.root, item.relPath) : item.relPath,
      neighbors: k > 0 ? this.neighbors(runId, item, k) : [],
    };
  }

  private trainingInliers(runId: number) {
    const hit = this.neighborCache.get(runId);
    if (hit) return hit;
    let run = this.run(runId);
    if (isScoreRun(run) && run.parentRunId !== null) run = this.run(run.parentRunId);
    const sel = str(run.selection.inliers);
    if (!sel || run.extractorId === null) return null;
    const selection = parseSelection(this.ws, sel, 'inliers');
    const held = new Set(
      ((obj(run.metrics).evaluation as EvaluationInfo | undefined)?.heldOutItemIds ?? []) as number[],
    );
    const items = this.ws.items
      .list(selection.datasetId, { status: 'ok', labels: selection.labels ?? undefined })
      .filter((i) => i.contentHash && !held.has(i.id));
    const { dim, matrix } = this.ws.features.load(
      run.extractorId,
      items.map((i) => i.contentHash!),
    );
    normalizeRows(matrix, dim);
    const entry = { items, vectors: matrix, dim };
    this.neighborCache.set(runId, entry);
    return entry;
  }

  private neighbors(runId: number, item: ItemRow, k: number): ItemScoreDetail['neighbors'] {
    const train = this.trainingInliers(runId);
    const run = this.run(runId);
    if (!train || !item.contentHash || run.extractorId === null) return [];
    const { matrix } = this.ws.features.load(run.extractorId, [item.contentHash]);
    normalizeRows(matrix, train.dim);
    const best: { i: number; d: number }[] = [];
    for (let i = 0; i < train.items.length; i++) {
      if (train.items[i].contentHash === item.contentHash) continue;
      let dot = 0;
      const off = i * train.dim;
      for (let j = 0; j < train.dim; j++) dot += matrix[j] * train.vectors[off + j];
      const d = 1 - dot;
      if (best.length < k || d < best[best.length - 1].d) {
        best.push({ i, d });
        best.sort((a, b) => a.d - b.d);
        if (best.length > k) best.pop();
      }
    }
    return best.map(({ i, d }) => ({
      itemId: train.items[i].id,
      relPath: train.items[i].relPath,
      distance: d,
    }));
  }

  /** The ranked list as CSV: rank, score, flagged, group, path, label (most anomalous first). */
  csv(runId: number): string {
    const view = this.ranked(runId);
    const threshold = this.thresholdOrNull(runId)?.threshold ?? null;
    const roots = new Map(this.ws.datasets.list().map((d) => [d.id, d.root]));
    const lines = ['rank,score,flagged,group,path,label'];
    for (const it of view.items)
      lines.push(
        [
          it.rank,
          it.score,
          threshold !== null && it.score >= threshold ? 1 : 0,
          it.group,
          path.join(roots.get(it.datasetId) ?? '', it.relPath),
          it.label,
        ]
          .map(csvCell)
          .join(','),
      );
    return lines.join('\n') + '\n';
  }
}

/**
 * The histogram's x range: all finite scores, unless the top 1 % reach further than half the
 * spread of the middle 98 % beyond the 99th percentile; then the range stops at the 99th
 * percentile and the last bin also counts the scores above it.
 */
export function histogramRange(scores: readonly number[]): { lo: number; clippedAbove: number | null } {
  const s = scores.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length < 100) return { lo: s[0] ?? 0, clippedAbove: null };
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1)))];
  const q01 = q(0.01);
  const q99 = q(0.99);
  const max = s[s.length - 1];
  return { lo: s[0], clippedAbove: max > q99 + 0.5 * (q99 - q01) ? q99 : null };
}

/** A ranked item as the app sees it, flagged against the current threshold. */
function publicItem(it: RankedRun['items'][number], threshold: number | null): ScoredItem {
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
  };
}

/** See the file comment: exactly ⌊α·n⌋ of the held-out scores are ≥ the result. */
export function thresholdFor(heldOut: readonly number[], targetFpr: number): number {
  const s = [...heldOut].sort((a, b) => b - a);
  const k = Math.min(s.length, Math.floor(targetFpr * s.length + 1e-9));
  if (k === 0) return s[0] + Math.max(Math.abs(s[0]) * 1e-6, 1e-9);
  if (k === s.length) return s[s.length - 1];
  return (s[k - 1] + s[k]) / 2;
}

function normalizeRows(m: Float32Array, dim: number): void {
  for (let off = 0; off < m.length; off += dim) {
    let n = 0;
    for (let j = 0; j < dim; j++) n += m[off + j] * m[off + j];
    const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
    for (let j = 0; j < dim; j++) m[off + j] *= inv;
  }
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
