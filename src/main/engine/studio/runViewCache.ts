/**
 * Derived views of finished runs (the ranked list, the training inliers' vectors for nearest
 * neighbours) are costly to build and do not change once a run is done, so they are cached per
 * workspace and run. The use cases that change what they are built from call
 * `invalidateRunViews`: a new threshold (setThreshold), a removed run or dataset.
 */
import type { Workspace } from '../store';

const caches = new WeakMap<Workspace, Map<number, Map<string, unknown>>>();

/** `build()`'s value for (run, kind), cached while `keep` (a finished run's views do not change). */
export function cachedRunView<T>(
  ws: Workspace,
  runId: number,
  kind: string,
  keep: boolean,
  build: () => T,
): T {
  let byRun = caches.get(ws);
  if (!byRun) caches.set(ws, (byRun = new Map()));
  const views = byRun.get(runId);
  if (views?.has(kind)) return views.get(kind) as T;
  const value = build();
  if (keep) {
    if (views) views.set(kind, value);
    else byRun.set(runId, new Map([[kind, value]]));
  }
  return value;
}

/** Forgets the cached views of some runs (default: every run of the workspace). */
export function invalidateRunViews(ws: Workspace, runIds?: Iterable<number>): void {
  const byRun = caches.get(ws);
  if (!byRun) return;
  if (!runIds) byRun.clear();
  else for (const id of runIds) byRun.delete(id);
}
