/** Pure state of one job, folded from its JobEvents (kept apart from Pinia so it is easy to test). */
import type { ApiError, JobEvent, JobKind, JobProgress, JobResult, LossPoint } from '../../../shared/ipc';

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface JobState {
  jobId: string;
  kind: JobKind;
  /** what the user started, e.g. 'Scanning cats/' */
  label: string;
  status: JobStatus;
  progress: JobProgress | null;
  /** live loss curve (training), ordered by step */
  losses: LossPoint[];
  /** the run the job records (training, scoring), once it exists */
  runId: number | null;
  result: JobResult | null;
  error: ApiError | null;
}

export type JobOutcome =
  { status: 'done'; result: JobResult } | { status: 'failed'; error: ApiError } | { status: 'cancelled' };

export function newJob(jobId: string, kind: JobKind, label = ''): JobState {
  return {
    jobId,
    kind,
    label,
    status: 'running',
    progress: null,
    losses: [],
    runId: null,
    result: null,
    error: null,
  };
}

/** Inserts a loss point in step order; a repeated step replaces the earlier point. */
export function addLoss(losses: LossPoint[], point: LossPoint): LossPoint[] {
  const last = losses[losses.length - 1];
  if (!last || point.step > last.step) {
    losses.push(point);
    return losses;
  }
  let i = losses.length - 1;
  while (i >= 0 && losses[i].step > point.step) i--;
  if (i >= 0 && losses[i].step === point.step) losses[i] = point;
  else losses.splice(i + 1, 0, point);
  return losses;
}

/**
 * Folds one event into a job's state (mutating `state`, or creating it when the event is the first
 * sign of the job). A job that has ended ignores later events.
 */
export function reduceJob(state: JobState | undefined, event: JobEvent): JobState {
  const job = state ?? newJob(event.jobId, event.kind);
  if (job.status !== 'running') return job;
  switch (event.type) {
    case 'progress':
      job.progress = event.progress;
      break;
    case 'loss':
      addLoss(job.losses, event.point);
      break;
    case 'run':
      job.runId = event.runId;
      break;
    case 'done':
      job.status = 'done';
      job.result = event.result;
      break;
    case 'failed':
      job.status = 'failed';
      job.error = event.error;
      break;
    case 'cancelled':
      job.status = 'cancelled';
      break;
  }
  return job;
}

export function outcomeOf(job: JobState): JobOutcome | null {
  if (job.status === 'done' && job.result) return { status: 'done', result: job.result };
  if (job.status === 'failed')
    return {
      status: 'failed',
      error: job.error ?? { message: 'The job failed.', hint: null, kind: 'internal' },
    };
  if (job.status === 'cancelled') return { status: 'cancelled' };
  return null;
}

/** Phase name the UI shows: 'extract train' → 'extract', 'train cf' → 'train'. */
export function phaseKind(phase: string | undefined | null): string {
  return (phase ?? '').trim().split(/\s+/)[0] ?? '';
}
