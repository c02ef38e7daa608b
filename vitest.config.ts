import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // compiles .vue files for the renderer's component tests (test/renderer)
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // the machine has 2 cores; training tests are CPU-bound
    maxWorkers: 2,
    reporters: ['default'],
  },
});
