import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ExtractorInfo } from '../../../shared/ipc';
import { api } from '../lib/api';
import { useAppStore } from './app';

export const useExtractorsStore = defineStore('extractors', () => {
  const list = ref<ExtractorInfo[]>([]);
  const importing = ref(false);

  async function refresh(): Promise<void> {
    try {
      list.value = await api().invoke('extractors:list');
    } catch (err) {
      useAppStore().report(err);
    }
  }

  /** Asks for an .onnx file and registers it; returns the new extractor or null. */
  async function importFromDisk(): Promise<ExtractorInfo | null> {
    try {
      const path = await api().invoke('dialog:pickFile', {
        title: 'Import a feature extractor (.onnx)',
        extensions: ['onnx'],
      });
      if (!path) return null;
      importing.value = true;
      const info = await api().invoke('extractors:import', { path });
      await refresh();
      return info;
    } catch (err) {
      useAppStore().report(err);
      return null;
    } finally {
      importing.value = false;
    }
  }

  return { list, importing, refresh, importFromDisk };
});
