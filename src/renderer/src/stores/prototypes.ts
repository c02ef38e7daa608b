import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import type { ApiError, PrototypesInfo } from '../../../shared/ipc';
import { api } from '../lib/api';
import { toApiError } from '../lib/errors';

/** samples drawn for the run view's strip */
export const PROTOTYPE_COUNT = 8;

/**
 * What a detector thinks is normal: samples of its flow with their nearest real images
 * (runs:prototypes), for the open run. A failure stays in the strip (it is an optional panel), not
 * in the error banner.
 */
export const usePrototypesStore = defineStore('prototypes', () => {
  const runId = ref<number | null>(null);
  const info = shallowRef<PrototypesInfo | null>(null);
  const loading = ref(false);
  const error = shallowRef<ApiError | null>(null);

  async function load(id: number, count = PROTOTYPE_COUNT): Promise<void> {
    if (runId.value === id && (loading.value || info.value !== null)) return;
    runId.value = id;
    info.value = null;
    error.value = null;
    loading.value = true;
    try {
      const result = await api().invoke('runs:prototypes', { runId: id, count });
      if (runId.value === id) info.value = result;
    } catch (err) {
      if (runId.value === id) error.value = toApiError(err);
    } finally {
      if (runId.value === id) loading.value = false;
    }
  }

  return { runId, info, loading, error, load };
});
