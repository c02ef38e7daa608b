import { defineStore } from 'pinia';
import { ref } from 'vue';

export type ViewName = 'new' | 'run' | 'runs' | 'compare';

/** Navigation without a router: the current view, the open run, the runs picked for comparison. */
export const useUiStore = defineStore('ui', () => {
  const view = ref<ViewName>('new');
  const runId = ref<number | null>(null);
  const compareIds = ref<number[]>([]);

  function go(next: ViewName): void {
    view.value = next;
  }

  function openRun(id: number): void {
    runId.value = id;
    view.value = 'run';
  }

  function toggleCompare(id: number, on: boolean): void {
    const rest = compareIds.value.filter((x) => x !== id);
    compareIds.value = on ? [...rest, id] : rest;
  }

  function forgetRun(id: number): void {
    compareIds.value = compareIds.value.filter((x) => x !== id);
    if (runId.value === id) {
      runId.value = null;
      if (view.value === 'run') view.value = 'runs';
    }
  }

  return { view, runId, compareIds, go, openRun, toggleCompare, forgetRun };
});
