import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ApiError, AppInfo } from '../../../shared/ipc';
import { api, maybeApi } from '../lib/api';
import { toApiError } from '../lib/errors';

/** App-wide state: what `app:info` says, whether the bridge exists, and the error banner. */
export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const bridge = ref<boolean>(maybeApi() !== null);
  const error = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    bridge.value = maybeApi() !== null;
    if (!bridge.value) return;
    try {
      info.value = await api().invoke('app:info');
    } catch (err) {
      report(err);
    }
  }

  /** Shows a failure in the banner (cancellations are not errors). */
  function report(err: unknown): void {
    const e = toApiError(err);
    if (e.kind === 'cancelled') return;
    error.value = e;
  }

  function showError(e: ApiError): void {
    if (e.kind !== 'cancelled') error.value = e;
  }

  function dismissError(): void {
    error.value = null;
  }

  return { info, bridge, error, load, report, showError, dismissError };
});
