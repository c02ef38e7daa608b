import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
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
  /** AUPR of finished runs (from runs:get; null: not both classes scored), for the comparison */
  const aupr = reactive(new Map<number, number | null>());

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

  /** Fetches the AUPR of these runs (once each; it does not change with the threshold). */
  async function loadAupr(ids: readonly number[]): Promise<void> {
    const missing = ids.filter(
      (id) => !aupr.has(id) && list.value.find((r) => r.id === id)?.status === 'done',
    );
    await Promise.all(
      missing.map(async (id) => {
        try {
          aupr.set(id, (await api().invoke('runs:get', { id })).decision?.aupr ?? null);
        } catch {
          aupr.set(id, null);
        }
      }),
    );
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

  return { list, methods, trainJobId, aupr, refresh, loadMethods, train, loadAupr, remove };
});
