import { defineStore } from 'pinia';
import { ref } from 'vue';
import { defaultDraft, type TrainDraft } from '../lib/trainRequest';

/** The New-detector form; kept in a store so it survives switching views. */
export const useDraftStore = defineStore('draft', () => {
  const draft = ref<TrainDraft>(defaultDraft());

  function reset(): void {
    draft.value = defaultDraft();
  }

  return { draft, reset };
});
