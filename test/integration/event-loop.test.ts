/**
 * The app's main thread stays free while a detector trains: loading 11,000 feature vectors,
 * training, scoring the 9,100-image evaluation set and recording it all happen in worker
 * threads, and so do the run views (ranked pages, histograms, neighbours). Measured with
 * perf_hooks.monitorEventLoopDelay over a whole train job on CIFAR-10 + MoCo features, through
 * the real IPC handlers. Before the workers, the train job stalled the loop for 415–450 ms and a
 * run view for 164 ms; with them the longest stall is ~25–65 ms on an idle machine and up to
 * ~120 ms when both cores are busy with other tests (the OS, not our code, then delays the
 * loop). The bound, 250 ms, sits between the two: it fails if a synchronous step comes back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarMissing, copyCifarWorkspace } from '../helpers/cifarWorkspace';
import { createLocalApi, type LocalApi } from '../helpers/localApi';

const MAX_STALL_MS = 250;

let dir: string;
let local: LocalApi;

beforeAll(async () => {
  if (cifarMissing) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-eventloop-'));
  const { file } = copyCifarWorkspace(dir);
  local = await createLocalApi({ workspace: file });
}, 1_200_000);

afterAll(async () => {
  await local?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Runs `work` while sampling the event loop's delay; returns the work's value and the delays in ms. */
async function measured<T>(work: () => Promise<T>): Promise<{ value: T; maxMs: number; p99Ms: number }> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  try {
    const value = await work();
    return { value, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
  } finally {
    h.disable();
  }
}

describe.skipIf(cifarMissing)('the main thread during a train job (CIFAR-10 deer vs train/, MoCo)', () => {
  it('never stalls ≥ 250 ms while training, evaluating and recording; nor while the run view loads', async () => {
    const datasets = await local.api.invoke('datasets:list');
    const train = datasets.find((d) => d.name === 'cifar-train')!;
    const [extractor] = await local.api.invoke('extractors:list');
    const job = await measured(async () => {
      const { jobId } = await local.api.invoke('runs:train', {
        method: 'cf',
        inliers: { datasetId: train.id, labels: ['deer'] },
        contrast: { datasetId: train.id, labels: null },
        extractorId: extractor.id,
        steps: 150,
        eps: 0,
        hidden: 64,
        blocks: 4,
        seed: 0,
      });
      return local.waitForJob(jobId, 600_000);
    });
    console.log(`train job: event-loop delay max ${job.maxMs.toFixed(1)} ms, p99 ${job.p99Ms.toFixed(1)} ms`);
    expect(job.value.kind).toBe('train');
    const runId = (job.value as { runId: number }).runId;

    const view = await measured(async () => {
      const detail = await local.api.invoke('runs:get', { id: runId });
      const page = await local.api.invoke('runs:scores', { id: runId, offset: 4000, limit: 200 });
      const item = await local.api.invoke('runs:item', { runId, itemId: page.items[0].itemId, neighbors: 6 });
      const t = await local.api.invoke('runs:setThreshold', { runId, targetFpr: 0.1 });
      return { detail, page, item, t };
    });
    console.log(
      `run view (detail, a page, an item with neighbours, a threshold): max ${view.maxMs.toFixed(1)} ms, p99 ${view.p99Ms.toFixed(1)} ms`,
    );
    // what was measured is the real thing: 100 held-out inliers + 9,000 contrast images
    expect(view.value.detail.scored).toBe(9100);
    expect(view.value.page.total).toBe(9100);
    expect(view.value.item.neighbors).toHaveLength(6);
    expect(view.value.t.heldOutCount).toBe(100);
    expect(job.maxMs).toBeLessThan(MAX_STALL_MS);
    expect(view.maxMs).toBeLessThan(MAX_STALL_MS);
  }, 900_000);
});
