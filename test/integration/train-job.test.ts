/** Training in a worker thread: same result as in-thread, progress streamed, cancel, error kinds kept. */
import { beforeAll, describe, expect, it } from 'vitest';
import { initTfjs } from '../../src/main/engine/backend/tfjsBackend';
import { defaultDetectorConfig, fitDetector } from '../../src/main/engine/detector/fitDetector';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { runTrainJob } from '../../src/main/engine/jobs/runTrainJob';
import type { TrainProgress } from '../../src/main/engine/train/trainer';
import { CancelledError, UserError } from '../../src/main/engine/util/errors';
import { Rng } from '../../src/main/engine/util/rng';

beforeAll(async () => {
  await initTfjs();
});

const rng = new Rng(5);
const inliers = { rows: 400, cols: 3, data: Float32Array.from({ length: 1200 }, () => rng.normal()) };
const input = { inliers, columns: ['a', 'b', 'c'], contrast: 'permutation' as const };
const config = () => {
  const c = defaultDetectorConfig('cf');
  c.flow = { ...c.flow, blocks: 2, hidden: 16 };
  c.train = { ...c.train, steps: 60, batchSize: 64 };
  return c;
};

describe('training job in a worker thread', () => {
  it('gives the same detector as training in-thread and streams progress', async () => {
    const seen: TrainProgress[] = [];
    const inWorker = await runTrainJob(input, config(), { onProgress: (p) => seen.push(p) });
    const inThread = await fitDetector(input, config());
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.at(-1)!.step).toBe(60);
    expect(seen.at(-1)!.phase).toBe('cf');
    const a = (await scoreDetector(inWorker, inliers)).score;
    const b = (await scoreDetector(inThread, inliers)).score;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(inWorker.meta.backend?.backend).toBe(inThread.meta.backend?.backend);
  });

  it('cancels on abort', async () => {
    const ac = new AbortController();
    const c = config();
    c.train.steps = 1_000_000;
    const job = runTrainJob(input, c, { signal: ac.signal, onProgress: (p) => p.step > 10 && ac.abort() });
    await expect(job).rejects.toThrow(CancelledError);
  });

  it('keeps user errors as UserError across the thread boundary', async () => {
    const job = runTrainJob({ ...input, contrast: null }, config());
    await expect(job).rejects.toThrow(UserError);
    await expect(runTrainJob({ ...input, contrast: null }, config())).rejects.toThrow(/needs contrast/);
  });
});
