/**
 * Worker-thread entry that runs a long use case (training, scoring a dataset) on its own
 * workspace connection (SQLite in WAL mode lets the caller keep reading), so that the caller's
 * thread — the app's main process, the CLI's progress display and Ctrl-C — never waits on
 * loading features, training or evaluation scoring. See inWorker.ts for the caller's side.
 */
import { serveJob } from '../jobs/serveJob';
import { openWorkspace } from './workspace';
import { retrainWithFeedback } from './retrain';
import { scoreWithRun } from './scoring';
import { trainDetector, type StudioProgress } from './train';
import type { UseCaseCall, UseCaseResult } from './inWorker';

serveJob<UseCaseCall, StudioProgress, UseCaseResult>(async (call, ctx) => {
  const ws = openWorkspace(call.workspaceFile);
  // forward every training-progress point at the end of a phase; the rest are throttled
  const hooks = {
    signal: ctx.signal,
    onProgress: (p: StudioProgress) => ctx.progress(p, p.kind === 'train' && p.p.step === p.p.totalSteps),
  };
  try {
    if (call.useCase === 'trainDetector') {
      const { detector, ...outcome } = await trainDetector(ws, call.request, hooks);
      return { useCase: 'trainDetector', outcome };
    }
    if (call.useCase === 'retrainWithFeedback')
      return { useCase: 'retrainWithFeedback', outcome: await retrainWithFeedback(ws, call.request, hooks) };
    const { ranked, ...outcome } = await scoreWithRun(ws, call.runId, call.selection, hooks);
    return { useCase: 'scoreWithRun', outcome };
  } finally {
    ws.close();
  }
});
