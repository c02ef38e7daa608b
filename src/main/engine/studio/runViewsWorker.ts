/**
 * Worker-thread entry that serves what the app shows of runs — detail (histograms, ROC), ranked
 * pages, item detail with nearest neighbours, the threshold, exports — from its own workspace
 * connection and its own cache of ranked lists (runViewCache.ts), so that building them never
 * holds up the main process. See runViewsClient.ts for the caller's side.
 */
import { serveRpc } from '../jobs/serveRpc';
import { exportRun } from './exportDetectors';
import { markItems, type FeedbackMark } from './feedback';
import { itemDetail } from './neighbours';
import { runPrototypes } from './prototypes';
import { invalidateRunViews } from './runViewCache';
import { removeRun, runDetail, scorePage } from './runs';
import { setThreshold } from './threshold';
import { openWorkspace } from './workspace';

export function runViewHandlers(workspaceFile: string) {
  const ws = openWorkspace(workspaceFile);
  return {
    runDetail: (id: number) => runDetail(ws, id),
    scorePage: (id: number, page: { offset: number; limit: number; group?: string | null }) =>
      scorePage(ws, id, page),
    itemDetail: (runId: number, itemId: number, k: number) => itemDetail(ws, runId, itemId, k),
    setThreshold: (runId: number, targetFpr: number) => setThreshold(ws, runId, targetFpr),
    markItems: (runId: number, itemIds: number[], mark: FeedbackMark | null) =>
      markItems(ws, runId, itemIds, mark),
    prototypes: (runId: number, count: number) => runPrototypes(ws, runId, { count }),
    removeRun: (id: number) => removeRun(ws, id),
    exportRun: (runId: number, format: 'cfdet' | 'onnx' | 'csv', out: string) =>
      exportRun(ws, runId, format, out),
    /** another connection changed what views are built from (e.g. a dataset was removed) */
    invalidate: (runIds: number[] | null) => invalidateRunViews(ws, runIds ?? undefined),
    close: () => ws.close(),
  };
}

export type RunViewApi = ReturnType<typeof runViewHandlers>;

serveRpc<{ workspaceFile: string }>((init) => runViewHandlers(init.workspaceFile));
