// @vitest-environment happy-dom
/**
 * Store logic: the jobs store folding a JobEvent stream, the results store's paging, threshold and
 * following of a running run, the feedback store (selection, marks, retrain) and the prototypes
 * store, on a small fake of CfStudioApi (./fakeApi.ts) that serves deterministic pages, so edge
 * cases (events before the start call returns, late pages, re-flagging) are cheap to set up.
 * stores.local.test.ts runs the same stores against the real handlers (test/helpers/localApi.ts).
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type {
  DecisionMetrics,
  JobEvent,
  MarkCounts,
  RunDetail,
  ScoredItem,
  ThresholdInfo,
} from '../../src/shared/ipc';
import { setApi } from '../../src/renderer/src/lib/api';
import { reduceJob, type JobState } from '../../src/renderer/src/stores/jobReducer';
import { useJobsStore } from '../../src/renderer/src/stores/jobs';
import { LIVE_POLL_MS, PAGE_SIZE, pagesFor, useResultsStore } from '../../src/renderer/src/stores/results';
import { useAppStore } from '../../src/renderer/src/stores/app';
import { useFeedbackStore } from '../../src/renderer/src/stores/feedback';
import { usePrototypesStore } from '../../src/renderer/src/stores/prototypes';
import { useRunsStore } from '../../src/renderer/src/stores/runs';
import { useUiStore } from '../../src/renderer/src/stores/ui';
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

  it('keeps the run a job records, from its run event on', () => {
    let state = reduceJob(undefined, { jobId: 'j3', kind: 'train', type: 'run', runId: 17 });
    expect(state.runId).toBe(17);
    state = reduceJob(state, {
      jobId: 'j3',
      kind: 'train',
      type: 'done',
      result: { kind: 'train', runId: 17 },
    });
    expect(state).toMatchObject({ status: 'done', runId: 17 });
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
    mark: null,
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
    live: null,
    marks: { normal: 0, anomaly: 0 },
    feedback: { normal: 0, anomaly: 0, fromRuns: [] },
    retrain: null,
    decision: null,
    distributions: [],
    inliers: 'cifar: cat',
    contrast: 'imagenet',
    test: null,
    eps: 0,
    auroc: 0.9,
    aupr: 0.85,
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

// ------------------------------------------------------------------ a running run, followed live

describe('results store: a running run', () => {
  let status: RunDetail['status'] = 'running';
  let done = 0;
  let api: FakeApi;

  function liveDetail(): RunDetail {
    const d = runDetail(status === 'done' ? 250 : 0, null);
    return {
      ...d,
      status,
      live:
        status === 'running'
          ? {
              phase: 'train cf',
              done,
              total: 1500,
              rate: 120,
              etaSeconds: (1500 - done) / 120,
              contrastAboveEps: 0.4,
              updated: '2026-12-01T10:00:00Z',
            }
          : null,
      losses: Array.from({ length: Math.floor(done / 100) }, (_, i) => ({
        step: (i + 1) * 100,
        inlierNll: 2 - i * 0.01,
        contrastNll: 3,
        contrastAboveEps: 0.4,
      })),
    };
  }

  beforeEach(() => {
    vi.useFakeTimers();
    setActivePinia(createPinia());
    status = 'running';
    done = 100;
    api = fakeApi({
      'runs:get': () => liveDetail(),
      'runs:scores': ({ offset, limit }) => ({
        total: 250,
        items: Array.from({ length: 250 }, (_, i) => scored(i + 1, 90, 'dog')).slice(offset, offset + limit),
      }),
    });
    setApi(api);
  });
  afterEach(() => {
    useResultsStore().unfollow();
    vi.useRealTimers();
    setApi(null);
  });

  const gets = () => api.calls.filter((c) => c.channel === 'runs:get').length;

  it('polls about once a second while the view follows it, then shows the results in place', async () => {
    const results = useResultsStore();
    results.follow();
    await results.open(7);
    expect(results.detail?.live?.done).toBe(100);
    // nothing to page while it trains
    expect(api.calls.map((c) => c.channel)).toEqual(['runs:get']);
    done = 400;
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    expect(gets()).toBe(2);
    expect(results.detail?.live?.done).toBe(400);
    expect(results.detail?.losses).toHaveLength(4);
    done = 800;
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    expect(results.detail?.live?.done).toBe(800);

    // it ends: the next poll shows the results (first page) without a blank detail in between
    status = 'done';
    const seen: (string | null)[] = [];
    const stop = results.$subscribe(() => seen.push(results.detail?.status ?? null));
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    stop();
    expect(results.detail?.status).toBe('done');
    expect(seen).not.toContain(null);
    expect(results.pages.get(0)?.[0].rank).toBe(1);
    // and it stops asking
    const after = gets();
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(gets()).toBe(after);
  });

  it('stops polling when the view closes and while the page is hidden', async () => {
    const results = useResultsStore();
    results.follow();
    await results.open(7);
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    expect(gets()).toBe(2);

    const hidden = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(gets()).toBe(2);
    hidden.mockReturnValue('visible');
    document.dispatchEvent(new Event('visibilitychange'));
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    expect(gets()).toBe(3);

    results.unfollow();
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(gets()).toBe(3);
    hidden.mockRestore();
  });

  it('does not poll a run that is not followed, nor a finished one', async () => {
    const results = useResultsStore();
    await results.open(7);
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(gets()).toBe(1);
    status = 'done';
    results.follow();
    await results.open(7);
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(gets()).toBe(2);
  });
});

// ------------------------------------------------------------------ decisions, feedback, prototypes

const decisionAt = (t: number): DecisionMetrics => ({
  aupr: 0.81,
  fprAt95Tpr: 0.3,
  atThreshold: { precision: t / 100, recall: 1 - t / 100, f1: 0.5, fpr: 0.05, flagged: 10 },
});

describe('results store: decision metrics follow the threshold', () => {
  it('fetches precision, recall and F1 again after a new threshold', async () => {
    setActivePinia(createPinia());
    let t = 90;
    const api = fakeApi({
      'runs:get': () => ({ ...runDetail(10, null), decision: decisionAt(t) }),
      'runs:scores': () => ({ total: 10, items: [] }),
      'runs:setThreshold': ({ targetFpr }) => {
        t = 40;
        return { threshold: t, targetFpr, heldOutFpr: targetFpr, heldOutCount: 100, flagged: 3 };
      },
    });
    setApi(api);
    const results = useResultsStore();
    await results.open(7);
    expect(results.detail?.decision?.atThreshold?.precision).toBe(0.9);
    await results.setThreshold(0.2);
    expect(results.detail?.decision?.atThreshold?.precision).toBe(0.4);
    expect(results.detail?.threshold?.threshold).toBe(40);
    setApi(null);
  });
});

describe('feedback store', () => {
  const TOTAL = 250;
  let marks: Map<number, 'normal' | 'anomaly'>;
  let api: FakeApi;
  /** when set, the next runs:get answers (with what it read at once) only after this resolves */
  let hold: Promise<void> | null;
  const counts = (): MarkCounts => ({
    normal: [...marks.values()].filter((m) => m === 'normal').length,
    anomaly: [...marks.values()].filter((m) => m === 'anomaly').length,
  });
  /** run 8 scores with run 7's detector; its list has 4 confirmed anomalies, marked before run 7's */
  const marksOn8 = new Map<number, 'normal' | 'anomaly'>(
    [1001, 1002, 1003, 1004].map((id) => [id, 'anomaly']),
  );
  /** what the engine gathers for detector 7: run 8's marks, then run 7's (the later mark of an image wins) */
  const feedbackOf7 = (): RunDetail['feedback'] => {
    const latest = new Map([...marksOn8, ...marks]);
    const values = [...latest.values()];
    return {
      normal: values.filter((m) => m === 'normal').length,
      anomaly: values.filter((m) => m === 'anomaly').length,
      fromRuns: [...(marks.size > 0 ? [7] : []), 8],
    };
  };

  beforeEach(() => {
    setActivePinia(createPinia());
    marks = new Map();
    hold = null;
    const detailOf = (id: number): RunDetail => ({
      ...runDetail(TOTAL, null),
      id,
      // 7: a detector with a score run (8); 9: a detector without any; 10: an evaluation without a detector
      kind: id === 8 ? 'score' : id === 10 ? 'protocol' : 'train',
      detectorRunId: id === 8 ? 7 : id === 10 ? null : id,
      marks:
        id === 7
          ? counts()
          : id === 8
            ? { normal: 0, anomaly: 4 }
            : id === 10
              ? { normal: 2, anomaly: 0 }
              : { normal: 0, anomaly: 0 },
      feedback:
        id === 7 || id === 8
          ? feedbackOf7()
          : id === 10
            ? null
            : { ...counts(), fromRuns: marks.size > 0 ? [id] : [] },
    });
    api = fakeApi({
      'runs:list': () => [7, 8, 9, 10].map((id) => detailOf(id)),
      'runs:get': async ({ id }) => {
        const run = detailOf(id);
        const wait = hold;
        hold = null;
        if (wait) await wait;
        return run;
      },
      'runs:scores': ({ offset, limit }) => ({
        total: TOTAL,
        items: Array.from({ length: TOTAL }, (_, i) => ({
          ...scored(i + 1, 90, 'dog'),
          mark: marks.get(1000 + i + 1) ?? null,
        })).slice(offset, offset + limit),
      }),
      'runs:item': ({ itemId }) => ({ ...scored(itemId - 1000, 90, 'dog'), path: '/x.png', neighbors: [] }),
      'runs:mark': ({ itemIds, mark }) => {
        for (const id of itemIds) {
          if (mark === null) marks.delete(id);
          else marks.set(id, mark);
        }
        return counts();
      },
      'runs:retrain': () => ({ jobId: 'r1' }),
    });
    setApi(api);
  });
  afterEach(() => setApi(null));

  it('selects ranges across pages it loads first, and marks the selection', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    await results.open(7);
    await feedback.act(2, 'single');
    // a range into the next page: its page is fetched first
    await feedback.act(PAGE_SIZE + 3, 'range');
    expect(results.pages.has(1)).toBe(true);
    expect(feedback.selection.ids).toHaveLength(PAGE_SIZE + 2);
    expect(feedback.selection.ids[0]).toBe(1003);
    await feedback.act(PAGE_SIZE + 3, 'toggle');
    expect(feedback.selectedIds.has(1000 + PAGE_SIZE + 4)).toBe(false);

    await feedback.mark('normal');
    const call = api.calls.find((c) => c.channel === 'runs:mark')!;
    expect(call.args[0]).toMatchObject({ runId: 7, mark: 'normal' });
    expect((call.args[0] as { itemIds: number[] }).itemIds).toHaveLength(PAGE_SIZE + 1);
    // shown without asking for the pages again: tiles, counts
    expect(results.pages.get(0)?.[2].mark).toBe('normal');
    expect(results.pages.get(0)?.[1].mark).toBeNull();
    expect(results.detail?.marks).toEqual({ normal: PAGE_SIZE + 1, anomaly: 0 });
    expect(feedback.own).toEqual({ normal: PAGE_SIZE + 1, anomaly: 0 });

    // the open image follows its mark; null clears
    await results.select(1003);
    await feedback.mark('anomaly', [1003]);
    expect(results.selected?.mark).toBe('anomaly');
    await feedback.mark(null, [1003]);
    expect(results.selected?.mark).toBeNull();
    expect(results.pages.get(0)?.[2].mark).toBeNull();

    // another group filter: positions mean other images, the selection is gone
    await results.setGroup('dog');
    await flush();
    expect(feedback.selection.ids).toEqual([]);
  });

  it('counts the marks a retrain gathers from the run’s feedback, without asking for the related runs', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    const gets = () => api.calls.filter((c) => c.channel === 'runs:get').map((c) => c.args[0]);
    await results.open(9);
    await flush();
    // run 9 has no marks on any list of its detector
    expect(feedback.total).toBe(0);
    expect(feedback.canRetrain).toBe(false);

    await results.open(7);
    await flush();
    // run 7 has none of its own, but the engine counts the 4 on its score run 8
    expect(feedback.own).toEqual({ normal: 0, anomaly: 0 });
    expect(feedback.feedback).toEqual({ normal: 0, anomaly: 4, fromRuns: [8] });
    expect(feedback.total).toBe(4);
    expect(feedback.canRetrain).toBe(true);
    // one runs:get per opened run: none for run 8, and the runs list is not needed
    expect(gets()).toEqual([{ id: 9 }, { id: 7 }]);
    expect(api.calls.some((c) => c.channel === 'runs:list')).toBe(false);

    // marking re-reads this run (only): 1001 is also on run 8's list, and the later mark wins,
    // so the count is the engine's (4), not this list's plus run 8's (5)
    await feedback.mark('normal', [1001]);
    expect(feedback.own).toEqual({ normal: 1, anomaly: 0 });
    expect(feedback.feedback).toEqual({ normal: 1, anomaly: 3, fromRuns: [7, 8] });
    expect(feedback.total).toBe(4);
    await feedback.mark('anomaly', [1010, 1011]);
    expect(feedback.total).toBe(6);
    expect(gets()).toEqual([{ id: 9 }, { id: 7 }, { id: 7 }, { id: 7 }]);

    // a run without a detector (feedback null): no retrain, whatever its own marks
    await results.open(10);
    await flush();
    expect(feedback.own).toEqual({ normal: 2, anomaly: 0 });
    expect(feedback.feedback).toBeNull();
    expect(feedback.total).toBe(0);
    expect(feedback.canRetrain).toBe(false);
  });

  it('keeps the latest feedback when marks come in quick succession', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    await results.open(9);
    // the first mark's re-read answers last: its older count must not replace the newer one
    let release!: () => void;
    hold = new Promise<void>((r) => (release = r));
    const first = feedback.mark('anomaly', [1001]);
    await flush();
    await feedback.mark('anomaly', [1002]);
    expect(feedback.total).toBe(2);
    release();
    await first;
    expect(feedback.total).toBe(2);
    expect(feedback.canRetrain).toBe(true);
    expect(useAppStore().error).toBeNull();
  });

  it('retrains: a train job, then the new run opens', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    const ui = useUiStore();
    ui.openRun(7);
    await results.open(7);
    await feedback.act(0, 'single');
    await feedback.mark('anomaly');
    const jobs = useJobsStore();
    const started = feedback.retrain();
    await flush();
    expect(feedback.retrainJobId).toBe('r1');
    expect(jobs.get('r1')?.label).toBe('Retraining with feedback');
    api.emit({ jobId: 'r1', kind: 'train', type: 'done', result: { kind: 'train', runId: 12 } });
    await started;
    expect(api.calls.find((c) => c.channel === 'runs:retrain')?.args[0]).toEqual({ runId: 7 });
    expect(ui.runId).toBe(12);
    expect(feedback.retrainJobId).toBeNull();
    expect(useRunsStore().list.length).toBeGreaterThan(0);
  });

  it('shows a failed retrain in the banner with its hint and stays on the run', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    const ui = useUiStore();
    ui.openRun(7);
    await results.open(7);
    await feedback.act(0, 'single');
    await feedback.mark('normal');
    const started = feedback.retrain();
    await flush();
    const error = { message: 'run 7 has no marked images', hint: 'mark images first', kind: 'user' as const };
    api.emit({ jobId: 'r1', kind: 'train', type: 'failed', error });
    await started;
    expect(useAppStore().error).toEqual(error);
    expect(ui.runId).toBe(7);
  });
});

describe('prototypes store', () => {
  it('loads a run’s prototypes once, and keeps a refusal in the strip, not the banner', async () => {
    setActivePinia(createPinia());
    const api = fakeApi({
      'runs:prototypes': ({ runId, count }) => {
        if (runId === 3)
          throw Object.assign(new Error('no flow'), {
            apiError: { message: 'run 3: knn has no flow', hint: null, kind: 'user', code: 'invalid-input' },
          });
        return {
          runId,
          temperature: 0.6,
          prototypes: Array.from({ length: count }, () => ({ logProb: 10, nearest: [] })),
          heldOutMedianLogProb: 5,
          nearestInlierShare: 0.75,
          chance: 0.18,
        };
      },
    });
    setApi(api);
    const p = usePrototypesStore();
    await p.load(7);
    await p.load(7);
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0].args[0]).toEqual({ runId: 7, count: 8 });
    expect(p.info?.prototypes).toHaveLength(8);
    await p.load(3);
    expect(p.info).toBeNull();
    expect(p.error?.message).toBe('run 3: knn has no flow');
    expect(useAppStore().error).toBeNull();
    setApi(null);
  });
});
