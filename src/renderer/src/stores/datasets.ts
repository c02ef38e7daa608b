import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import type { DatasetDetail, DatasetInfo, ItemInfo } from '../../../shared/ipc';
import { api } from '../lib/api';
import { useAppStore } from './app';
import { useJobsStore } from './jobs';

/** Last path segment, for job labels ('/data/cats/' → 'cats'). */
export function folderName(path: string): string {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export const THUMBS_PER_CARD = 48;

/** Workspace datasets, scanned folders, and the first thumbnails of each. */
export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetInfo[]>([]);
  const details = reactive(new Map<number, DatasetDetail>());
  const thumbs = reactive(new Map<number, ItemInfo[]>());
  /** the scan job in flight per purpose ('inliers', 'contrast', 'score') */
  const scanJobs = reactive(new Map<string, string>());

  async function refresh(): Promise<void> {
    try {
      list.value = await api().invoke('datasets:list');
    } catch (err) {
      useAppStore().report(err);
    }
  }

  /** Loads a dataset's detail (skipped files, labels) and its first thumbnails. */
  async function load(id: number): Promise<DatasetDetail | null> {
    try {
      const [detail, page] = await Promise.all([
        api().invoke('datasets:get', { id }),
        api().invoke('datasets:items', { id, offset: 0, limit: THUMBS_PER_CARD }),
      ]);
      details.set(id, detail);
      thumbs.set(id, page.items);
      return detail;
    } catch (err) {
      useAppStore().report(err);
      return null;
    }
  }

  /**
   * Scans a folder into the workspace (a 'scan' job), then loads its card. Returns the new
   * dataset, or null when the scan failed (reported) or was cancelled.
   */
  async function scan(path: string, purpose: string): Promise<DatasetDetail | null> {
    const jobs = useJobsStore();
    try {
      const jobId = await jobs.start('scan', `Scanning ${folderName(path)}`, () =>
        api().invoke('datasets:add', { path }),
      );
      scanJobs.set(purpose, jobId);
      const outcome = await jobs.wait(jobId);
      if (outcome.status === 'failed') {
        useAppStore().showError(outcome.error);
        return null;
      }
      if (outcome.status === 'cancelled' || outcome.result.kind !== 'scan') return null;
      const dataset = outcome.result.dataset;
      details.set(dataset.id, dataset);
      await Promise.all([refresh(), loadThumbs(dataset.id)]);
      return dataset;
    } catch (err) {
      useAppStore().report(err);
      return null;
    } finally {
      scanJobs.delete(purpose);
    }
  }

  async function loadThumbs(id: number): Promise<void> {
    try {
      const page = await api().invoke('datasets:items', { id, offset: 0, limit: THUMBS_PER_CARD });
      thumbs.set(id, page.items);
    } catch (err) {
      useAppStore().report(err);
    }
  }

  function byId(id: number | null): DatasetInfo | DatasetDetail | null {
    if (id === null) return null;
    return details.get(id) ?? list.value.find((d) => d.id === id) ?? null;
  }

  return { list, details, thumbs, scanJobs, refresh, load, scan, loadThumbs, byId };
});
