/**
 * The long use cases run in a worker thread (useCaseWorker.ts), for every front end: the caller
 * gets progress events and the outcome; cancelling its signal stops the work; errors keep their
 * kind and code across the thread boundary. The outcomes leave out what is big and stored anyway
 * (the detector, the ranked list): read them from the workspace by run id.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWorkerJob } from '../jobs/runWorkerJob';
import type { RetrainOutcome, RetrainRequest } from './retrain';
import type { ScoreRunOutcome } from './scoring';
import type { Selection } from './selection';
import type { StudioHooks, StudioProgress, TrainOutcome, TrainRequest } from './train';

export type UseCaseCall =
  | { useCase: 'trainDetector'; workspaceFile: string; request: TrainRequest }
  | { useCase: 'scoreWithRun'; workspaceFile: string; runId: number; selection: Selection }
  | { useCase: 'retrainWithFeedback'; workspaceFile: string; request: RetrainRequest };

export type UseCaseResult =
  | { useCase: 'trainDetector'; outcome: Omit<TrainOutcome, 'detector'> }
  | { useCase: 'scoreWithRun'; outcome: Omit<ScoreRunOutcome, 'ranked'> }
  | { useCase: 'retrainWithFeedback'; outcome: RetrainOutcome };

const sourceDir = path.dirname(fileURLToPath(import.meta.url));

function run(call: UseCaseCall, hooks: StudioHooks): Promise<UseCaseResult> {
  return runWorkerJob<UseCaseCall, StudioProgress, UseCaseResult>('useCaseWorker', call.useCase, call, {
    signal: hooks.signal,
    onProgress: hooks.onProgress,
    sourceDir,
  });
}

/** trainDetector (train.ts) in a worker thread, on the workspace file `workspaceFile`. */
export async function trainDetectorInWorker(
  workspaceFile: string,
  request: TrainRequest,
  hooks: StudioHooks = {},
): Promise<Omit<TrainOutcome, 'detector'>> {
  const r = await run({ useCase: 'trainDetector', workspaceFile, request }, hooks);
  if (r.useCase !== 'trainDetector') throw new Error('useCaseWorker answered another use case');
  return r.outcome;
}

/** scoreWithRun (scoring.ts) in a worker thread: a score run of `runId`'s detector over `selection`. */
export async function scoreWithRunInWorker(
  workspaceFile: string,
  runId: number,
  selection: Selection,
  hooks: StudioHooks = {},
): Promise<Omit<ScoreRunOutcome, 'ranked'>> {
  const r = await run({ useCase: 'scoreWithRun', workspaceFile, runId, selection }, hooks);
  if (r.useCase !== 'scoreWithRun') throw new Error('useCaseWorker answered another use case');
  return r.outcome;
}

/** retrainWithFeedback (retrain.ts) in a worker thread: a new run from a run's detector and the marks. */
export async function retrainInWorker(
  workspaceFile: string,
  request: RetrainRequest,
  hooks: StudioHooks = {},
): Promise<RetrainOutcome> {
  const r = await run({ useCase: 'retrainWithFeedback', workspaceFile, request }, hooks);
  if (r.useCase !== 'retrainWithFeedback') throw new Error('useCaseWorker answered another use case');
  return r.outcome;
}
