import { computed } from 'vue';
import type { DatasetDetail } from '../../../shared/ipc';
import { api } from '../lib/api';
import { useAppStore } from '../stores/app';
import { useDatasetsStore } from '../stores/datasets';
import { useJobsStore } from '../stores/jobs';

/**
 * Folder → dataset for one purpose ('inliers', 'contrast'): the picker, a dropped folder, the scan
 * job it runs, and what to do with the scanned dataset.
 */
export function useFolderScan(purpose: string, title: string, onScanned: (dataset: DatasetDetail) => void) {
  const app = useAppStore();
  const datasets = useDatasetsStore();
  const jobs = useJobsStore();

  const job = computed(() => jobs.get(datasets.scanJobs.get(purpose)));
  const busy = computed(() => datasets.scanJobs.has(purpose));

  async function scanPath(path: string): Promise<void> {
    const dataset = await datasets.scan(path, purpose);
    if (dataset) onScanned(dataset);
  }

  async function pick(): Promise<void> {
    try {
      const path = await api().invoke('dialog:pickFolder', { title });
      if (path) await scanPath(path);
    } catch (err) {
      app.report(err);
    }
  }

  function noPath(): void {
    app.showError({
      message: 'This window cannot read the path of a dropped folder.',
      hint: 'Use the “Choose folder…” button instead.',
      kind: 'user',
    });
  }

  function pathOf(file: File): string | null {
    try {
      return api().pathForDroppedFile(file);
    } catch {
      return null;
    }
  }

  return { job, busy, scanPath, pick, noPath, pathOf };
}
