/**
 * The analyst's feedback on what a run flagged: each image of a run's ranked list may be marked
 * 'normal' (a false alarm) or 'anomaly' (a confirmed find). Marks are stored with the run whose
 * list was marked; a retrain of a detector gathers the marks made on its own list and on the
 * lists of its score runs (feedbackForDetector).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FeedbackMark, Workspace } from '../store';
import { userError } from '../util/errors';
import { detectorRunOf, getRun } from './detectorOfRun';
import { rankedRun } from './rankedRun';
import { invalidateRunViews } from './runViewCache';
import { resolveDataRef } from './selection';

export type { FeedbackMark };

export interface MarkCounts {
  normal: number;
  anomaly: number;
}

function counts(ws: Workspace, runId: number): MarkCounts {
  const marks = ws.feedback.list(runId);
  return {
    normal: marks.filter((m) => m.mark === 'normal').length,
    anomaly: marks.filter((m) => m.mark === 'anomaly').length,
  };
}

/** Marks (or, with null, unmarks) items of run `runId`'s ranked list; returns the run's mark counts. */
export function markItems(
  ws: Workspace,
  runId: number,
  itemIds: readonly number[],
  mark: FeedbackMark | null,
): MarkCounts {
  getRun(ws, runId);
  const scored = new Set(rankedRun(ws, runId).items.map((i) => i.itemId));
  const unknown = itemIds.filter((id) => !scored.has(id));
  if (unknown.length)
    throw userError(
      'item-not-scored',
      `${unknown.length === 1 ? `item ${unknown[0]} was` : `${unknown.length} items were`} not scored by run ${runId}; only images of its list can be marked`,
      { runId, itemId: unknown[0] },
    );
  ws.feedback.set(runId, itemIds, mark);
  // the ranked list shows the marks
  invalidateRunViews(ws, [runId]);
  return counts(ws, runId);
}

/** The marks on run `runId`'s list, by item. */
export function runMarks(ws: Workspace, runId: number): Map<number, FeedbackMark> {
  return new Map(ws.feedback.list(runId).map((m) => [m.itemId, m.mark]));
}

/**
 * The feedback for retraining detector run `detectorRunId`: the marks on its list and on its
 * score runs' lists (a later mark of the same image wins).
 */
export function feedbackForDetector(
  ws: Workspace,
  detectorRunId: number,
): { normal: number[]; anomaly: number[]; fromRuns: number[] } {
  const runs = [
    detectorRunId,
    ...ws.runs
      .list({ parentRunId: detectorRunId })
      .filter((r) => detectorRunOf(r) === detectorRunId)
      .map((r) => r.id),
  ];
  const latest = new Map<number, { mark: FeedbackMark; marked: string }>();
  const fromRuns: number[] = [];
  for (const id of runs) {
    const marks = ws.feedback.list(id);
    if (marks.length) fromRuns.push(id);
    for (const m of marks) {
      const seen = latest.get(m.itemId);
      if (!seen || m.marked >= seen.marked) latest.set(m.itemId, { mark: m.mark, marked: m.marked });
    }
  }
  const normal: number[] = [];
  const anomaly: number[] = [];
  for (const [itemId, { mark }] of latest) (mark === 'normal' ? normal : anomaly).push(itemId);
  return { normal: normal.sort((a, b) => a - b), anomaly: anomaly.sort((a, b) => a - b), fromRuns };
}

/**
 * The images a command line names as feedback: each reference is an image file (an item of a
 * workspace dataset whose folder holds it) or a data reference (a folder or dataset, all of its
 * readable images; see resolveDataRef).
 */
export async function resolveImageRefs(
  ws: Workspace,
  refs: readonly string[],
  role: string,
  hooks: { signal?: AbortSignal } = {},
): Promise<number[]> {
  const ids: number[] = [];
  for (const ref of refs) {
    const stat = fs.statSync(ref, { throwIfNoEntry: false });
    if (stat?.isFile()) {
      const file = fs.realpathSync(ref);
      const ds = ws.datasets
        .list()
        .filter((d) => file.startsWith(d.root + path.sep))
        .sort((a, b) => b.root.length - a.root.length)[0];
      const item = ds && ws.items.list(ds.id).find((i) => path.join(ds.root, i.relPath) === file);
      if (!item || item.status !== 'ok')
        throw userError(
          'invalid-input',
          `${role}: ${ref} is not ${item ? 'a readable image' : 'an image of a workspace dataset'}`,
          {},
          item ? 'pick another image' : 'add the folder that holds it as a dataset first, or name the folder',
        );
      ids.push(item.id);
      continue;
    }
    const r = await resolveDataRef(ws, ref, role, { signal: hooks.signal });
    ids.push(
      ...ws.items
        .list(r.selection.datasetId, { status: 'ok', labels: r.selection.labels ?? undefined })
        .map((i) => i.id),
    );
  }
  return [...new Set(ids)];
}
