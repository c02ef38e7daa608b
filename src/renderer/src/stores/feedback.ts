import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { MarkCounts } from '../../../shared/ipc';
import { api } from '../lib/api';
import { EMPTY_SELECTION, nextSelection, type GallerySelection, type SelectMode } from '../lib/selection';
import { useAppStore } from './app';
import { useJobsStore } from './jobs';
import { pagesFor, useResultsStore, type Mark } from './results';
import { useRunsStore } from './runs';
import { useUiStore } from './ui';

const NO_MARKS: MarkCounts = { normal: 0, anomaly: 0 };

/**
 * The analyst's feedback on the open run's list: the gallery's multi-selection, marking images
 * normal (a false alarm) or anomaly (confirmed), and retraining the run's detector with the marks
 * (the engine gathers them from the detector run and its score runs, and says how many there are
 * in the run's `feedback`).
 */
export const useFeedbackStore = defineStore('feedback', () => {
  const results = useResultsStore();
  const selection = ref<GallerySelection>(EMPTY_SELECTION);
  const selectedIds = computed(() => new Set(selection.value.ids));
  const marking = ref(false);
  const retrainJobId = ref<string | null>(null);

  const own = computed(() => results.detail?.marks ?? NO_MARKS);
  /** what a retrain from the open run would use, as the engine counts it (null: no detector) */
  const feedback = computed(() => results.detail?.feedback ?? null);
  /** marks a retrain would use (an image marked on several lists counts once) */
  const total = computed(() => (feedback.value ? feedback.value.normal + feedback.value.anomaly : 0));
  /** not while a mark is being stored and the count read again */
  const canRetrain = computed(
    () =>
      !marking.value &&
      results.detail?.status === 'done' &&
      feedback.value !== null &&
      total.value > 0 &&
      retrainJobId.value === null,
  );

  // a new list (another run, another group filter): positions mean other images
  watch(
    () => [results.runId, results.group],
    () => (selection.value = EMPTY_SELECTION),
  );

  function idAt(index: number): number | undefined {
    return results.itemAt(index)?.itemId;
  }

  /** A click (or arrow key) on position `index`, as a single, range or toggle selection. */
  async function act(index: number, mode: SelectMode): Promise<void> {
    const anchor = selection.value.anchor;
    if (mode === 'range' && anchor !== null)
      await results.ensurePages(pagesFor(Math.min(anchor, index), Math.max(anchor, index) + 1));
    selection.value = nextSelection(selection.value, index, mode, idAt);
  }

  function clearSelection(): void {
    selection.value = { ...EMPTY_SELECTION, focus: selection.value.focus };
  }

  /** Marks images of the open run's list (the selection by default); null clears their marks. */
  async function mark(value: Mark, itemIds: readonly number[] = selection.value.ids): Promise<void> {
    const runId = results.runId;
    if (runId === null || itemIds.length === 0) return;
    const ids = [...itemIds];
    marking.value = true;
    try {
      const counts = await api().invoke('runs:mark', { runId, itemIds: ids, mark: value });
      if (results.runId !== runId) return;
      results.applyMarks(ids, value, counts);
      await refreshFeedback(runId);
    } catch (err) {
      useAppStore().report(err);
    } finally {
      marking.value = false;
    }
  }

  /** the latest refresh asked for (marks in quick succession: the last answer wins) */
  let refreshSeq = 0;
  /**
   * Reads the open run again for the feedback a retrain would use: the engine gathers it over
   * the detector's lists (the latest mark of an image wins), so it is not a sum of counts here.
   */
  async function refreshFeedback(runId: number): Promise<void> {
    const seq = ++refreshSeq;
    const run = await api().invoke('runs:get', { id: runId });
    if (seq !== refreshSeq || results.runId !== runId || results.detail?.id !== runId) return;
    results.applyFeedback(run.feedback);
  }

  /** Retrains the open run's detector with the marks; shows the job, then opens the new run. */
  async function retrain(): Promise<void> {
    const runId = results.runId;
    if (runId === null || !canRetrain.value) return;
    const jobs = useJobsStore();
    const ui = useUiStore();
    try {
      const jobId = await jobs.start('train', 'Retraining with feedback', () =>
        api().invoke('runs:retrain', { runId }),
      );
      retrainJobId.value = jobId;
      const outcome = await jobs.wait(jobId);
      if (outcome.status === 'failed') useAppStore().showError(outcome.error);
      else if (outcome.status === 'done' && outcome.result.kind === 'train') {
        void useRunsStore().refresh();
        // open the new run unless the user went elsewhere meanwhile
        if (ui.view === 'run' && ui.runId === runId) ui.openRun(outcome.result.runId);
      }
    } catch (err) {
      useAppStore().report(err);
    } finally {
      retrainJobId.value = null;
    }
  }

  return {
    selection,
    selectedIds,
    marking,
    retrainJobId,
    own,
    feedback,
    total,
    canRetrain,
    act,
    clearSelection,
    mark,
    retrain,
  };
});
