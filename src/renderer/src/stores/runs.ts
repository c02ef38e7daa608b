import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { MethodInfo, RunSummary, TrainRequest } from '../../../shared/ipc';
import { api } from '../lib/api';
import { useAppStore } from './app';
import { useJobsStore } from './jobs';
import type { JobOutcome } from './jobReducer';

/** Runs in the workspace, the methods, and the training job. */
export const useRunsStore = defineStore('runs', () => {
  const list = ref<RunSummary[]>([]);
  const methods = ref<MethodInfo[]>([]);
  const trainJobId = ref<string | null>(null);

  async function refresh(): Promise<void> {
    try {
      list.value = await api().invoke('runs:list');
    } catch (err) {
      useAppStore().report(err);
    }
  }

  async function loadMethods(): Promise<void> {
    try {
      methods.value = await api().invoke('methods:list');
    } catch (err) {
      useAppStore().report(err);
    }
  }

  /** Starts training; resolves with the job's outcome (failures also go to the banner). */
  async function train(request: TrainRequest): Promise<JobOutcome | null> {
    const jobs = useJobsStore();
    try {
      const jobId = await jobs.start('train', `Training ${request.method}`, () =>
        api().invoke('runs:train', request),
      );
      trainJobId.value = jobId;
      const outcome = await jobs.wait(jobId);
      if (outcome.status === 'failed') useAppStore().showError(outcome.error);
      void refresh();
      return outcome;
    } catch (err) {
      useAppStore().report(err);
      return null;
    }
  }

  async function remove(id: number): Promise<boolean> {
    try {
      await api().invoke('runs:remove', { id });
      list.value = list.value.filter((r) => r.id !== id);
      return true;
    } catch (err) {
      useAppStore().report(err);
      return false;
    }
  }

  return { list, methods, trainJobId, refresh, loadMethods, train, remove };
});
