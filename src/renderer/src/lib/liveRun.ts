/** What the live run view shows: the run as polled, or the fresher events of a job this window runs. */
import type { RunDetail, RunLive } from '../../../shared/ipc';
import type { JobState } from '../stores/jobReducer';

/**
 * The polled run (RunDetail.live, written about once a second by the process that trains it) and,
 * when this window started the job, the job's own progress and loss events, which arrive as they
 * happen: whichever is further along is shown, so the view never lags the status bar.
 */
export function freshestLive(
  run: Pick<RunDetail, 'live' | 'losses'>,
  job: Pick<JobState, 'progress' | 'losses'> | null,
  now: () => string = () => new Date().toISOString(),
): Pick<RunDetail, 'live' | 'losses'> {
  const p = job?.progress ?? null;
  const polled = run.live;
  const jobAhead =
    p !== null && (polled === null || (p.phase === polled.phase ? p.done > polled.done : true));
  const live: RunLive | null = jobAhead
    ? {
        phase: p.phase,
        done: p.done,
        total: p.total,
        rate: p.rate,
        etaSeconds: p.etaSeconds,
        contrastAboveEps: p.contrastAboveEps ?? polled?.contrastAboveEps ?? null,
        updated: now(),
      }
    : polled;
  const losses = job && job.losses.length > run.losses.length ? job.losses : run.losses;
  return { live, losses };
}
