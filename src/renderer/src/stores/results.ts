import { defineStore } from 'pinia';
import { computed, reactive, ref, shallowRef } from 'vue';
import type { ExportRequest, ItemScoreDetail, MarkCounts, RunDetail, ScoredItem } from '../../../shared/ipc';
import { api } from '../lib/api';
import { useAppStore } from './app';
import { useDatasetsStore } from './datasets';
import { useJobsStore } from './jobs';

export const PAGE_SIZE = 96;
export const DEFAULT_TARGET_FPR = 0.05;
export const NEIGHBORS = 6;
/** how often a running run's view asks for its progress */
export const LIVE_POLL_MS = 1000;

export type Mark = ScoredItem['mark'];

/** A run still training: its view follows it. */
export function isLive(run: Pick<RunDetail, 'status'> | null | undefined): boolean {
  return run?.status === 'running' || run?.status === 'queued';
}

export type ExportFormat = ExportRequest['format'];

const EXTENSIONS: Record<ExportFormat, string> = { csv: 'csv', cfdet: 'cfdet', onnx: 'onnx' };
const EXPORT_TITLES: Record<ExportFormat, string> = {
  csv: 'Export ranked scores as CSV',
  cfdet: 'Export detector bundle (.cfdet)',
  onnx: 'Export detector as ONNX scorer',
};

/** Page indices covering items [start, end). */
export function pagesFor(start: number, end: number, pageSize = PAGE_SIZE): number[] {
  if (end <= start) return [];
  const pages: number[] = [];
  for (let p = Math.floor(start / pageSize); p <= Math.floor((end - 1) / pageSize); p++) pages.push(p);
  return pages;
}

/**
 * The open run: its detail, ranked score pages, threshold, selected item, exports; a running run is
 * followed (polled) while a view shows it, and shows its results in place when it ends.
 */
export const useResultsStore = defineStore('results', () => {
  const runId = ref<number | null>(null);
  const detail = ref<RunDetail | null>(null);
  const loading = ref(false);
  /** gallery filter: one group, or null for all */
  const group = ref<string | null>(null);
  const total = ref(0);
  /** ranked pages of the current (run, group, threshold), by page index */
  const pages = reactive(new Map<number, ScoredItem[]>());
  const inFlight = new Set<number>();
  /** bumped whenever cached pages become stale: late responses of an older generation are dropped */
  let generation = 0;

  const targetFpr = ref(DEFAULT_TARGET_FPR);
  const thresholdBusy = ref(false);

  const selected = shallowRef<ItemScoreDetail | null>(null);
  const selectedLoading = ref(false);

  const exportJobId = ref<string | null>(null);
  const exported = ref<{ format: ExportFormat; path: string; bytes: number } | null>(null);
  const scoreJobId = ref<string | null>(null);

  /** a view shows the open run: a running run is polled while it does (and the page is visible) */
  let following = false;
  let pollTimer: ReturnType<typeof setTimeout> | null = null;

  /** Groups for the gallery filter: the histogram's groups, which name the scored items' groups. */
  const groups = computed(() => detail.value?.histograms?.series.map((s) => s.group) ?? []);

  function resetPages(): void {
    generation++;
    pages.clear();
    inFlight.clear();
    total.value = 0;
  }

  async function open(id: number): Promise<void> {
    runId.value = id;
    detail.value = null;
    loading.value = true;
    try {
      const run = await api().invoke('runs:get', { id });
      if (runId.value !== id) return;
      await show(run);
    } catch (err) {
      useAppStore().report(err);
    } finally {
      if (runId.value === id) loading.value = false;
    }
  }

  /** Shows a run's detail and its first page (replacing what was shown, without a blank in between). */
  async function show(run: RunDetail): Promise<void> {
    group.value = null;
    selected.value = null;
    exported.value = null;
    resetPages();
    detail.value = run;
    targetFpr.value = run.threshold?.targetFpr ?? DEFAULT_TARGET_FPR;
    total.value = run.scored;
    // the run comes with its threshold (stored, or the 5 % default; a score run follows its parent's)
    if (run.scored > 0) await fetchPage(0);
    schedulePoll();
  }

  // ------------------------------------------------------------ a running run, followed live

  function pageHidden(): boolean {
    return typeof document !== 'undefined' && document.visibilityState === 'hidden';
  }

  function schedulePoll(): void {
    if (pollTimer !== null || !following || !isLive(detail.value) || pageHidden()) return;
    pollTimer = setTimeout(() => {
      pollTimer = null;
      void poll();
    }, LIVE_POLL_MS);
  }

  function stopPolling(): void {
    if (pollTimer !== null) clearTimeout(pollTimer);
    pollTimer = null;
  }

  /** Asks for the running run's progress; once it has ended, shows its results in place. */
  async function poll(): Promise<void> {
    const id = runId.value;
    if (!following || id === null || !isLive(detail.value) || pageHidden()) return;
    try {
      const run = await api().invoke('runs:get', { id });
      if (runId.value !== id || !following) return;
      if (isLive(run)) detail.value = run;
      else await show(run);
    } catch (err) {
      // e.g. the run was deleted meanwhile: say so, and stop asking
      useAppStore().report(err);
      return;
    }
    schedulePoll();
  }

  function onVisibility(): void {
    if (pageHidden()) stopPolling();
    else schedulePoll();
  }

  /** The run view is shown: follow a running run (poll about once a second). */
  function follow(): void {
    if (following) return;
    following = true;
    if (typeof document !== 'undefined') document.addEventListener('visibilitychange', onVisibility);
    schedulePoll();
  }

  /** The run view is gone: stop polling. */
  function unfollow(): void {
    following = false;
    stopPolling();
    if (typeof document !== 'undefined') document.removeEventListener('visibilitychange', onVisibility);
  }

  async function fetchPage(page: number): Promise<void> {
    const id = runId.value;
    if (id === null || pages.has(page) || inFlight.has(page)) return;
    const gen = generation;
    inFlight.add(page);
    try {
      const result = await api().invoke('runs:scores', {
        id,
        offset: page * PAGE_SIZE,
        limit: PAGE_SIZE,
        group: group.value,
      });
      if (gen !== generation) return;
      total.value = result.total;
      pages.set(page, result.items);
    } catch (err) {
      if (gen === generation) useAppStore().report(err);
    } finally {
      if (gen === generation) inFlight.delete(page);
    }
  }

  /** Makes sure the pages with these indices are (being) fetched. */
  async function ensurePages(indices: readonly number[]): Promise<void> {
    await Promise.all(indices.map((p) => fetchPage(p)));
  }

  async function setGroup(next: string | null): Promise<void> {
    if (group.value === next) return;
    group.value = next;
    resetPages();
    await fetchPage(0);
  }

  async function setThreshold(fpr: number): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    targetFpr.value = fpr;
    thresholdBusy.value = true;
    try {
      const info = await api().invoke('runs:setThreshold', { runId: id, targetFpr: fpr });
      if (runId.value !== id) return;
      // flagged markers changed: fetch the cached pages again, then show the new threshold and the
      // new markers together (never a count that disagrees with the tiles on screen)
      const cached = pages.size > 0 ? [...pages.keys()] : [0];
      const gen = ++generation;
      inFlight.clear();
      const [fresh, again] = await Promise.all([
        Promise.all(
          cached.map((page) =>
            api().invoke('runs:scores', {
              id,
              offset: page * PAGE_SIZE,
              limit: PAGE_SIZE,
              group: group.value,
            }),
          ),
        ),
        // precision, recall and F1 at the new threshold
        api().invoke('runs:get', { id }),
      ]);
      const decision = again.decision;
      if (gen !== generation || runId.value !== id) return;
      pages.clear();
      cached.forEach((page, i) => pages.set(page, fresh[i].items));
      if (fresh.length > 0) total.value = fresh[0].total;
      if (detail.value) detail.value = { ...detail.value, threshold: info, decision };
    } catch (err) {
      useAppStore().report(err);
    } finally {
      thresholdBusy.value = false;
    }
  }

  /** the latest image asked for (arrow keys ask quickly one after another: the last one wins) */
  let selectSeq = 0;
  async function select(itemId: number): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    const seq = ++selectSeq;
    selectedLoading.value = true;
    try {
      const item = await api().invoke('runs:item', { runId: id, itemId, neighbors: NEIGHBORS });
      if (runId.value === id && seq === selectSeq) selected.value = item;
    } catch (err) {
      useAppStore().report(err);
    } finally {
      selectedLoading.value = false;
    }
  }

  function closeItem(): void {
    selected.value = null;
  }

  /** Shows marks the engine stored (runs:mark): on the loaded tiles, the open image and the counts. */
  function applyMarks(itemIds: readonly number[], mark: Mark, counts: MarkCounts): void {
    const ids = new Set(itemIds);
    for (const [page, items] of pages)
      if (items.some((i) => ids.has(i.itemId)))
        pages.set(
          page,
          items.map((i) => (ids.has(i.itemId) ? { ...i, mark } : i)),
        );
    if (selected.value && ids.has(selected.value.itemId)) selected.value = { ...selected.value, mark };
    if (detail.value) detail.value.marks = counts;
  }

  /** Shows what a retrain from the open run would use now (re-read after marking). */
  function applyFeedback(feedback: RunDetail['feedback']): void {
    if (detail.value) detail.value.feedback = feedback;
  }

  /** The item at position `index` of the current list, when its page is loaded. */
  function itemAt(index: number): ScoredItem | undefined {
    return pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Asks where to write, then runs the export job; the written path lands in `exported`. */
  async function exportRun(format: ExportFormat): Promise<void> {
    const id = runId.value;
    if (id === null) return;
    const jobs = useJobsStore();
    try {
      const path = await api().invoke('dialog:pickSavePath', {
        title: EXPORT_TITLES[format],
        defaultName: `run-${id}.${EXTENSIONS[format]}`,
      });
      if (!path) return;
      exported.value = null;
      const jobId = await jobs.start('export', `Exporting ${format.toUpperCase()}`, () =>
        api().invoke('runs:export', { runId: id, format, path }),
      );
      exportJobId.value = jobId;
      const outcome = await jobs.wait(jobId);
      if (outcome.status === 'failed') useAppStore().showError(outcome.error);
      else if (outcome.status === 'done' && outcome.result.kind === 'export')
        exported.value = { format, path: outcome.result.path, bytes: outcome.result.bytes };
    } catch (err) {
      useAppStore().report(err);
    } finally {
      exportJobId.value = null;
    }
  }

  /**
   * Picks a folder, scans it, scores it with this run's detector. Resolves with the new score
   * run's id (null when the user gave up or something failed — failures go to the banner).
   */
  async function scoreFolder(): Promise<number | null> {
    const run = detail.value;
    // the engine says which run's detector scores (a score run's parent)
    const id = run?.detectorRunId ?? null;
    if (id === null) return null;
    const jobs = useJobsStore();
    try {
      const path = await api().invoke('dialog:pickFolder', { title: 'Choose a folder of images to score' });
      if (!path) return null;
      const dataset = await useDatasetsStore().scan(path, 'score');
      if (!dataset) return null;
      const jobId = await jobs.start('score', `Scoring ${dataset.name}`, () =>
        api().invoke('runs:score', { runId: id, datasetId: dataset.id }),
      );
      scoreJobId.value = jobId;
      const outcome = await jobs.wait(jobId);
      if (outcome.status === 'failed') useAppStore().showError(outcome.error);
      if (outcome.status === 'done' && outcome.result.kind === 'score') return outcome.result.runId;
      return null;
    } catch (err) {
      useAppStore().report(err);
      return null;
    } finally {
      scoreJobId.value = null;
    }
  }

  return {
    runId,
    detail,
    loading,
    group,
    groups,
    total,
    pages,
    targetFpr,
    thresholdBusy,
    selected,
    selectedLoading,
    exportJobId,
    exported,
    scoreJobId,
    open,
    follow,
    unfollow,
    fetchPage,
    ensurePages,
    setGroup,
    setThreshold,
    select,
    closeItem,
    applyMarks,
    applyFeedback,
    itemAt,
    exportRun,
    scoreFolder,
  };
});
