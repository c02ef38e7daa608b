import { computed, type Ref } from 'vue';
import { useJobsStore } from '../stores/jobs';

/** Follows one job by id: its folded state and a cancel action. */
export function useJob(jobId: Ref<string | null>) {
  const jobs = useJobsStore();
  const job = computed(() => jobs.get(jobId.value));
  const running = computed(() => job.value?.status === 'running');
  async function cancel(): Promise<void> {
    if (jobId.value) await jobs.cancel(jobId.value);
  }
  return { job, running, cancel };
}
