/**
 * The run views (runViewsWorker.ts) for a front end that must not block: each call runs in the
 * views worker, on its own connection to `workspaceFile`. Calls are answered in order, so a
 * threshold change is seen by the page asked for after it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RpcWorker } from '../jobs/rpcWorker';
import type { RunViewApi } from './runViewsWorker';

export class RunViewsClient {
  private readonly worker: RpcWorker<RunViewApi>;

  constructor(workspaceFile: string) {
    this.worker = new RpcWorker<RunViewApi>(
      'runViewsWorker',
      { workspaceFile },
      path.dirname(fileURLToPath(import.meta.url)),
    );
  }

  runDetail(id: number) {
    return this.worker.call('runDetail', id);
  }
  scorePage(id: number, page: { offset: number; limit: number; group?: string | null }) {
    return this.worker.call('scorePage', id, page);
  }
  itemDetail(runId: number, itemId: number, k: number) {
    return this.worker.call('itemDetail', runId, itemId, k);
  }
  setThreshold(runId: number, targetFpr: number) {
    return this.worker.call('setThreshold', runId, targetFpr);
  }
  markItems(runId: number, itemIds: number[], mark: 'normal' | 'anomaly' | null) {
    return this.worker.call('markItems', runId, itemIds, mark);
  }
  prototypes(runId: number, count: number) {
    return this.worker.call('prototypes', runId, count);
  }
  removeRun(id: number) {
    return this.worker.call('removeRun', id);
  }
  exportRun(runId: number, format: 'cfdet' | 'onnx' | 'csv', out: string) {
    return this.worker.call('exportRun', runId, format, out);
  }
  /** Forget cached views (all runs when `runIds` is null), after another connection changed their data. */
  invalidate(runIds: number[] | null = null) {
    return this.worker.call('invalidate', runIds);
  }

  async close(): Promise<void> {
    try {
      await this.worker.call('close');
    } catch {
      // the worker is gone already: nothing to close
    }
    await this.worker.close();
  }
}
