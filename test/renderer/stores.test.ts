// @vitest-environment happy-dom
/**
 * Store logic: the jobs store folding a JobEvent stream, and the results store's paging and
 * threshold, on a small fake of CfStudioApi (./fakeApi.ts) that serves deterministic pages, so
 * edge cases (events before the start call returns, late pages, re-flagging) are cheap to set up.
 * stores.local.test.ts runs the same stores against the real handlers (test/helpers/localApi.ts).
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { JobEvent, RunDetail, ScoredItem, ThresholdInfo } from '../../src/shared/ipc';
import { setApi } from '../../src/renderer/src/lib/api';
import { reduceJob, type JobState } from '../../src/renderer/src/stores/jobReducer';
import { useJobsStore } from '../../src/renderer/src/stores/jobs';
import { PAGE_SIZE, pagesFor, useResultsStore } from '../../src/renderer/src/stores/results';
import { useAppStore } from '../../src/renderer/src/stores/app';
import { fakeApi, type FakeApi } from './fakeApi';

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('reduceJob', () => {
  it('folds progress, out-of-order losses and the end of a training job', () => {
    const events: JobEvent[] = [
      {
        jobId: 'j1',
        kind: 'train',
        type: 'progress',
        progress: { phase: 'extract train', done: 10, total: 100, rate: 50, etaSeconds: 1.8 },
      },
      { jobId: 'j1', kind: 'train', type: 'loss', point: { step: 10, inlierNll: 2, contrastNll: 3 } },
      { jobId: 'j1', kind: 'train', type: 'loss', point: { step: 30, inlierNll: 1.5, contrastNll: 4 } },
      { jobId: 'j1', kind: 'train', type: 'loss', point: { step: 20, inlierNll: 1.8, contrastNll: 3.5 } },
      { jobId: 'j1', kind: 'train', type: 'loss', point: { step: 30, inlierNll: 1.4, contrastNll: 4.1 } },
      {
        jobId: 'j1',
        kind: 'train',
        type: 'progress',
        progress: { phase: 'train cf', done: 30, total: 400, rate: 20, etaSeconds: 18.5, backend: 'wasm' },
      },
      { jobId: 'j1', kind: 'train', type: 'done', result: { kind: 'train', runId: 12 } },
      {
        jobId: 'j1',
        kind: 'train',
        type: 'progress',
        progress: { phase: 'late', done: 1, total: 1, rate: 0, etaSeconds: null },
      },
    ];
    let state: JobState | undefined;
    for (const e of events) state = reduceJob(state, e);
    expect(state?.status).toBe('done');
    expect(state?.result).toEqual({ kind: 'train', runId: 12 });
    expect(state?.losses.map((p) => [p.step, p.inlierNll])).toEqual([
      [10, 2],
      [20, 1.8],
      [30, 1.4],
    ]);
    // the late event after 'done' is ignored
    expect(state?.progress?.phase).toBe('train cf');
    expect(state?.progress?.backend).toBe('wasm');
  });

  it('keeps the ApiError of a failed job', () => {
    const error = { message: 'out of memory', hint: 'lower hidden units', kind: 'user' as const };
    const state = reduceJob(undefined, { jobId: 'j2', kind: 'extract', type: 'failed', error });
    expect(state).toMatchObject({ jobId: 'j2', kind: 'extract', status: 'failed', error });
  });
});

describe('jobs store', () => {
  let api: FakeApi;
  beforeEach(() => {
    setActivePinia(createPinia());
    api = fakeApi({ 'runs:train': () => ({ jobId: 't1' }), 'jobs:cancel': () => undefined });
    setApi(api);
  });
  afterEach(() => setApi(null));

  it('follows a started job through the event stream and resolves wait() on its end', async () => {
    const jobs = useJobsStore();
    const jobId = await jobs.start('train', 'Training cf', () => api.invoke('runs:train', {} as never));
    expect(jobs.current?.label).toBe('Training cf');
    const ended = jobs.wait(jobId);
    api.emit({
      jobId,
      kind: 'train',
      type: 'progress',
      progress: { phase: 'train cf', done: 5, total: 10, rate: 1, etaSeconds: 5 },
    });
    expect(jobs.get(jobId)?.progress?.done).toBe(5);
    api.emit({ jobId, kind: 'train', type: 'cancelled' });
    await expect(ended).resolves.toEqual({ status: 'cancelled' });
    await jobs.cancel(jobId);
    expect(api.calls.at(-1)).toEqual({ channel: 'jobs:cancel', args: [{ jobId: 't1' }] });
  });

  it('keeps events that arrive before the start call returns', async () => {
    const jobs = useJobsStore();
    jobs.listen();
    api.emit({ jobId: 't1', kind: 'train', type: 'done', result: { kind: 'train', runId: 4 } });
    const outcome = await jobs.run('train', 'Training', () => api.invoke('runs:train', {} as never));
    expect(outcome).toEqual({ status: 'done', result: { kind: 'train', runId: 4 } });
  });
});

// ------------------------------------------------------------------ results store

function scored(rank: number, threshold: number, group: string): ScoredItem {
  const score = 100 - rank * 0.37;
  return {
    itemId: 1000 + rank,
    datasetId: 1,
    rank,
    score,
    relPath: `${group}/img${rank}.png`,
    label: group,
    group,
    anomaly: group !== 'inliers',
    flagged: score >= threshold,
  };
}

function runDetail(total: number, threshold: ThresholdInfo | null): RunDetail {
  return {
    id: 7,
    name: 'cats',
    method: 'cf',
    methodLabel: 'CF',
    status: 'done',
    kind: 'train',
    parentRunId: null,
    detectorRunId: 7,
    meanAuroc: null,
    children: [],
    inliers: 'cifar: cat',
    contrast: 'imagenet',
    test: null,
    eps: 0,
    auroc: 0.9,
    trainSeconds: 12,
    backend: 'wasm',
    steps: 400,
    startedAt: null,
    finishedAt: null,
    error: null,
    perGroup: {},
    config: {},
    metrics: null,
    losses: [],
    histograms: {
      edges: [0, 1],
      clippedAbove: null,
      series: [
        { group: 'inliers', anomaly: false, counts: [1] },
        { group: 'dog', anomaly: true, counts: [1] },
      ],
    },
    roc: null,
    aurocNote: null,
    picks: [],
    threshold,
    scored: total,
  };
}

describe('results store', () => {
  const TOTAL = 250; // 3 pages of 96
  let threshold = 0;
  let api: FakeApi;

  beforeEach(() => {
    setActivePinia(createPinia());
    threshold = 90;
    api = fakeApi({
      'runs:get': () =>
        runDetail(TOTAL, {
          threshold: 90,
          targetFpr: 0.02,
          heldOutFpr: 0.02,
          heldOutCount: 100,
          flagged: 28,
        }),
      'runs:scores': ({ offset, limit, group }) => {
        const all = Array.from({ length: TOTAL }, (_, i) =>
          scored(i + 1, threshold, i % 2 === 0 ? 'dog' : 'inliers'),
        );
        const filtered = group ? all.filter((s) => s.group === group) : all;
        return { total: filtered.length, items: filtered.slice(offset, offset + limit) };
      },
      'runs:setThreshold': ({ targetFpr }) => {
        threshold = 100 - targetFpr * 500;
        return { threshold, targetFpr, heldOutFpr: targetFpr, heldOutCount: 100, flagged: 3 };
      },
    });
    setApi(api);
  });
  afterEach(() => setApi(null));

  it('computes which pages cover an index range', () => {
    expect(pagesFor(0, 10)).toEqual([0]);
    expect(pagesFor(90, 200)).toEqual([0, 1, 2]);
    expect(pagesFor(5, 5)).toEqual([]);
  });

  it('opens a run with its threshold and pages on demand', async () => {
    const results = useResultsStore();
    await results.open(7);
    expect(results.targetFpr).toBe(0.02);
    expect(api.calls.map((c) => c.channel)).toEqual(['runs:get', 'runs:scores']);
    expect(results.total).toBe(TOTAL);
    expect(
      results.pages
        .get(0)
        ?.map((s) => s.rank)
        .slice(0, 3),
    ).toEqual([1, 2, 3]);

    await results.ensurePages([1, 2]);
    expect(results.pages.get(2)).toHaveLength(TOTAL - 2 * PAGE_SIZE);
    expect(results.pages.get(2)?.[0].rank).toBe(2 * PAGE_SIZE + 1);
    // a page already there is not fetched again
    const before = api.calls.length;
    await results.ensurePages([1]);
    expect(api.calls.length).toBe(before);
  });

  it('refetches flagged markers after a new threshold and pages per group', async () => {
    const results = useResultsStore();
    await results.open(7);
    const flaggedAt2 = results.pages.get(0)?.filter((s) => s.flagged).length ?? 0;
    await results.setThreshold(0.2); // threshold 90 → 0: more flagged
    expect(results.detail?.threshold?.threshold).toBe(0);
    const flaggedAt20 = results.pages.get(0)?.filter((s) => s.flagged).length ?? 0;
    expect(flaggedAt20).toBeGreaterThan(flaggedAt2);

    await results.setGroup('dog');
    expect(results.total).toBe(125);
    expect(results.pages.get(0)?.every((s) => s.group === 'dog')).toBe(true);
    const last = api.calls.at(-1);
    expect(last?.channel).toBe('runs:scores');
    expect(last?.args[0]).toMatchObject({ id: 7, offset: 0, limit: PAGE_SIZE, group: 'dog' });
  });

  it('shows a failing call in the banner with its hint', async () => {
    api = fakeApi({
      'runs:get': () => {
        throw Object.assign(new Error('run 7 not found'), {
          apiError: { message: 'run 7 not found', hint: 'it may have been deleted', kind: 'user' },
        });
      },
    });
    setApi(api);
    const results = useResultsStore();
    await results.open(7);
    await flush();
    expect(useAppStore().error).toEqual({
      message: 'run 7 not found',
      hint: 'it may have been deleted',
      kind: 'user',
    });
    expect(results.detail).toBeNull();
  });
});
