import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { JobEvent, JobKind } from '../../../shared/ipc';
import { api } from '../lib/api';
import { newJob, outcomeOf, reduceJob, type JobOutcome, type JobState } from './jobReducer';

/** Every job the renderer has seen, folded from the single JobEvent stream. */
export const useJobsStore = defineStore('jobs', () => {
  const jobs = reactive(new Map<string, JobState>());
  /** the job the footer follows: the one started last */
  const currentJobId = ref<string | null>(null);
  const waiters = new Map<string, Array<(outcome: JobOutcome) => void>>();
  let unsubscribe: (() => void) | null = null;

  const current = computed(() => (currentJobId.value ? (jobs.get(currentJobId.value) ?? null) : null));

  function apply(event: JobEvent): void {
    const before = jobs.get(event.jobId);
    const after = reduceJob(before, event);
    if (!before) jobs.set(event.jobId, after);
    const outcome = outcomeOf(after);
    if (outcome) settle(event.jobId, outcome);
  }

  function settle(jobId: string, outcome: JobOutcome): void {
    const list = waiters.get(jobId);
    if (!list) return;
    waiters.delete(jobId);
    for (const resolve of list) resolve(outcome);
  }

  /** Subscribes to the bridge's job events (once). */
  function listen(): void {
    if (unsubscribe) return;
    unsubscribe = api().onJobEvent(apply);
  }

  function stopListening(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  /** Starts a job (`start` invokes e.g. 'runs:train') and begins following it. */
  async function start(
    kind: JobKind,
    label: string,
    startCall: () => Promise<{ jobId: string }>,
  ): Promise<string> {
    listen();
    const { jobId } = await startCall();
    const existing = jobs.get(jobId);
    if (existing) existing.label = label;
    else jobs.set(jobId, newJob(jobId, kind, label));
    currentJobId.value = jobId;
    return jobId;
  }

  /** Resolves when the job ends ('done' | 'failed' | 'cancelled'); never rejects. */
  function wait(jobId: string): Promise<JobOutcome> {
    const job = jobs.get(jobId);
    const outcome = job ? outcomeOf(job) : null;
    if (outcome) return Promise.resolve(outcome);
    return new Promise((resolve) => {
      const list = waiters.get(jobId) ?? [];
      list.push(resolve);
      waiters.set(jobId, list);
    });
  }

  /** Starts a job and waits for its end. */
  async function run(
    kind: JobKind,
    label: string,
    startCall: () => Promise<{ jobId: string }>,
  ): Promise<JobOutcome> {
    return wait(await start(kind, label, startCall));
  }

  async function cancel(jobId: string): Promise<void> {
    await api().invoke('jobs:cancel', { jobId });
  }

  function get(jobId: string | null | undefined): JobState | null {
    return jobId ? (jobs.get(jobId) ?? null) : null;
  }

  return { jobs, currentJobId, current, apply, listen, stopListening, start, wait, run, cancel, get };
});
