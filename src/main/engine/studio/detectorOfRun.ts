/**
 * Which detector a run scores with, decided once for every front end: a training or an imported
 * run scores with its own detector, a score run with its parent's, a protocol run with none (its
 * per-class runs have theirs).
 */
import fs from 'node:fs';
import { decodeDetector } from '../model/cfdet';
import type { Detector } from '../detector/types';
import type { RunRow, Workspace } from '../store';
import { UserError, userError } from '../util/errors';

/** The id of the run whose detector `run` scores with, or null (protocol runs). */
export function detectorRunOf(run: RunRow): number | null {
  switch (run.kind) {
    case 'train':
    case 'import':
      return run.id;
    case 'score':
      return run.config.parentRunId;
    case 'protocol':
      return null;
  }
}

/** A run of the workspace, or a 'run-missing' error. */
export function getRun(ws: Workspace, id: number): RunRow {
  const run = ws.runs.get(id);
  if (!run) throw userError('run-missing', `run ${id} does not exist in this workspace`, { runId: id });
  return run;
}

/** The detector `runId` scores with (see detectorRunOf), with its .cfdet bytes. */
export function runDetector(
  ws: Workspace,
  runId: number,
): { detector: Detector; bytes: Buffer; detectorRunId: number } {
  const run = getRun(ws, runId);
  const detectorRunId = detectorRunOf(run);
  const owner = detectorRunId === null ? undefined : ws.runs.get(detectorRunId);
  const m = detectorRunId === null ? undefined : ws.models.get(detectorRunId);
  if (!owner || !m)
    throw userError(
      'run-no-model',
      run.kind === 'protocol'
        ? `run ${runId} is an evaluation protocol; each of its per-class runs has a detector, it has none`
        : `run ${runId} (${run.method}, ${run.status}) has no stored detector`,
      { runId, method: run.method, status: run.status },
    );
  let bytes: Buffer;
  if (m.bytes) bytes = Buffer.from(m.bytes);
  else {
    try {
      bytes = fs.readFileSync(m.path!);
    } catch (e) {
      throw new UserError(
        `the detector of run ${owner.id} (${m.path}) cannot be read: ${(e as Error).message}`,
      );
    }
  }
  if (m.format !== 'cfdet')
    throw userError('run-no-model', `run ${owner.id} stores a ${m.format} model, not a CF Studio detector`, {
      runId: owner.id,
      method: owner.method,
      status: owner.status,
    });
  return {
    detector: decodeDetector(bytes, `the detector of run ${owner.id}`),
    bytes,
    detectorRunId: owner.id,
  };
}
