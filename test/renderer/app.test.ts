// @vitest-environment happy-dom
/**
 * The desktop flow through the whole App, against a fake bridge (./fakeApi.ts): pick a folder →
 * scan job → dataset card → train job with live progress → run view with threshold, gallery and
 * item detail; runs list and compare. Charts are stubbed (no canvas in happy-dom).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type {
  DatasetDetail,
  MarkCounts,
  RetrainComparison,
  RunDetail,
  RunSummary,
  ScoredItem,
  TrainRequest,
} from '../../src/shared/ipc';
import App from '../../src/renderer/src/App.vue';
import { setApi } from '../../src/renderer/src/lib/api';
import { LIVE_POLL_MS } from '../../src/renderer/src/stores/results';
import { useRunsStore } from '../../src/renderer/src/stores/runs';
import { fakeApi, type FakeApi, type Handlers } from './fakeApi';

const cats: DatasetDetail = {
  id: 1,
  name: 'cats',
  kind: 'image',
  root: '/data/cats',
  created: '2026-11-29T00:00:00Z',
  ok: 3,
  skipped: 1,
  labels: [
    { label: 'black', count: 1 },
    { label: 'white', count: 2 },
  ],
  skippedFiles: [{ relPath: 'white/bad.png', reason: 'unreadable: bad PNG signature' }],
  featureCounts: {},
};
const imagenet: DatasetDetail = {
  ...cats,
  id: 2,
  name: 'imagenet',
  root: '/data/imagenet',
  ok: 5,
  skipped: 0,
  labels: [{ label: '', count: 5 }],
  skippedFiles: [],
};

const summary: RunSummary = {
  id: 9,
  name: null,
  method: 'cf',
  methodLabel: 'CF (contrastive flow)',
  status: 'done',
  kind: 'train',
  parentRunId: null,
  detectorRunId: 9,
  meanAuroc: null,
  inliers: 'cats',
  contrast: 'imagenet',
  test: null,
  eps: 0,
  auroc: 0.9183,
  aupr: 0.8712,
  trainSeconds: 42,
  backend: 'wasm',
  steps: 400,
  startedAt: '2026-11-29T00:00:00Z',
  finishedAt: '2026-11-29T00:01:00Z',
  error: null,
  perGroup: { 'contrast: imagenet': 0.9183 },
};

const scoredItems: ScoredItem[] = Array.from({ length: 8 }, (_, i) => ({
  itemId: 100 + i,
  datasetId: i < 5 ? 2 : 1,
  rank: i + 1,
  score: 10 - i * 1.1,
  relPath: `img${i}.png`,
  label: '',
  group: i < 5 ? 'contrast: imagenet' : 'inliers (held-out)',
  anomaly: i < 5,
  flagged: i < 3,
  mark: null,
}));

const detail: RunDetail = {
  ...summary,
  children: [],
  live: null,
  marks: { normal: 0, anomaly: 0 },
  feedback: { normal: 0, anomaly: 0, fromRuns: [] },
  retrain: null,
  decision: {
    aupr: 0.87,
    fprAt95Tpr: 0.4,
    atThreshold: { precision: 0.9, recall: 0.6, f1: 0.72, fpr: 0.05, flagged: 3 },
  },
  distributions: [
    {
      group: 'inliers (held-out)',
      anomaly: false,
      count: 3,
      percentiles: Array.from({ length: 101 }, (_, p) => 5 + (p / 100) * 2),
    },
    {
      group: 'contrast: imagenet',
      anomaly: true,
      count: 5,
      percentiles: Array.from({ length: 101 }, (_, p) => 5.6 + (p / 100) * 4.4),
    },
  ],
  config: {},
  metrics: null,
  losses: [
    { step: 0, inlierNll: 3, contrastNll: 3 },
    { step: 400, inlierNll: 1, contrastNll: 6 },
  ],
  histograms: {
    edges: [0, 5, 10],
    clippedAbove: null,
    series: [
      { group: 'inliers (held-out)', anomaly: false, counts: [3, 0] },
      { group: 'contrast: imagenet', anomaly: true, counts: [1, 4] },
    ],
  },
  roc: { fpr: [0, 0.2, 1], tpr: [0, 0.8, 1], auroc: 0.9183 },
  aurocNote: 'anomalies: the contrast set itself (seen in training)',
  picks: [{ group: 'hardest-anomaly', rank: 1, itemId: 104, score: 5.6, relPath: 'img4.png', label: '' }],
  threshold: { threshold: 7.8, targetFpr: 0.05, heldOutFpr: 0.05, heldOutCount: 20, flagged: 3 },
  scored: scoredItems.length,
};

function makeApi(overrides: Handlers = {}): { api: FakeApi; trained: TrainRequest[] } {
  const trained: TrainRequest[] = [];
  let scanned = 0;
  const datasets: DatasetDetail[] = [];
  const later = (fn: () => void) => setTimeout(fn, 0);
  const api: FakeApi = fakeApi({
    'app:info': () => ({
      version: '0.1.0',
      platform: 'linux',
      versions: { electron: '45', chrome: '140', node: '22', v8: '14' },
      workspace: '/home/me/cfstudio.sqlite',
      shell: 'preview',
      trainBackend: { name: 'wasm', detail: 'tfjs-node not installed' },
      device: { selected: 'auto', tryOrder: ['cpu'], providers: [] },
    }),
    'datasets:list': () => datasets.slice(),
    'datasets:get': ({ id }) => [cats, imagenet].find((d) => d.id === id) ?? cats,
    'datasets:items': ({ id }) => ({
      total: 3,
      items: [0, 1, 2].map((i) => ({
        id: id * 10 + i,
        datasetId: id,
        relPath: `x${i}.png`,
        label: '',
        width: 32,
        height: 32,
      })),
    }),
    'dialog:pickFolder': () => (scanned === 0 ? '/data/cats' : '/data/imagenet'),
    'datasets:add': () => {
      const d = scanned++ === 0 ? cats : imagenet;
      const jobId = `scan-${d.id}`;
      later(() => {
        api.emit({
          jobId,
          kind: 'scan',
          type: 'progress',
          progress: { phase: `scan ${d.name}`, done: 2, total: 4, rate: 0, etaSeconds: null },
        });
        datasets.push(d);
        api.emit({ jobId, kind: 'scan', type: 'done', result: { kind: 'scan', dataset: d } });
      });
      return { jobId };
    },
    'extractors:list': () => [
      {
        id: 3,
        name: 'moco-resnet50',
        path: '/models/moco.onnx',
        sha256: 'abc',
        available: true,
        spec: {
          inputName: 'input',
          outputName: 'features',
          width: 224,
          height: 224,
          layout: 'NCHW',
          channelOrder: 'RGB',
          scale: 1 / 255,
          mean: [0.485, 0.456, 0.406],
          std: [0.229, 0.224, 0.225],
          resize: 'shorter-side + center-crop',
          l2Normalize: true,
        },
      },
    ],
    'methods:list': () => [
      {
        id: 'cf',
        label: 'CF (contrastive flow)',
        shortLabel: 'CF',
        usesContrast: true,
        flow: true,
        exportable: true,
        description: 'a contrastive flow',
      },
      {
        id: 'knn',
        label: 'KNN',
        shortLabel: 'KNN',
        usesContrast: false,
        flow: false,
        exportable: false,
        description: 'k-th nearest inlier',
      },
    ],
    'runs:train': (req) => {
      trained.push(req);
      return { jobId: 'train-1' };
    },
    'runs:list': () => [
      summary,
      { ...summary, id: 10, inliers: 'dogs', aupr: null, perGroup: { 'contrast: imagenet': 0.8 } },
    ],
    'runs:get': () => detail,
    'runs:scores': ({ offset, limit, group }) => {
      const all = group ? scoredItems.filter((s) => s.group === group) : scoredItems;
      return { total: all.length, items: all.slice(offset, offset + limit) };
    },
    'runs:setThreshold': ({ targetFpr }) => ({
      threshold: 6.5,
      targetFpr,
      heldOutFpr: 0.1,
      heldOutCount: 20,
      flagged: 4,
    }),
    'runs:item': ({ itemId }) => ({
      ...scoredItems.find((s) => s.itemId === itemId)!,
      path: `/data/imagenet/img${itemId - 100}.png`,
      neighbors: [
        { itemId: 11, relPath: 'white/a.png', distance: 0.12 },
        { itemId: 12, relPath: 'white/b.png', distance: 0.2 },
      ],
    }),
    'jobs:cancel': () => undefined,
    'dialog:pickSavePath': ({ defaultName }) => `/out/${defaultName}`,
    'runs:export': ({ path }) => {
      later(() =>
        api.emit({
          jobId: 'export-1',
          kind: 'export',
          type: 'done',
          result: { kind: 'export', path, bytes: 2048 },
        }),
      );
      return { jobId: 'export-1' };
    },
    'runs:score': () => {
      later(() =>
        api.emit({ jobId: 'score-1', kind: 'score', type: 'done', result: { kind: 'score', runId: 11 } }),
      );
      return { jobId: 'score-1' };
    },
    'runs:prototypes': ({ runId, count }) => ({
      runId,
      temperature: 0.6,
      prototypes: Array.from({ length: count }, (_, i) => ({
        logProb: 50 - i,
        nearest: [
          { itemId: 10 + i, relPath: `white/${i}.png`, role: i < 6 ? 'inlier' : 'contrast', distance: 0.1 },
        ],
      })),
      heldOutMedianLogProb: 40,
      nearestInlierShare: 0.75,
      chance: 0.4,
    }),
    ...overrides,
  });
  return { api, trained };
}

const ChartStub = { props: ['option', 'label'], template: '<div class="chart-stub"></div>' };
let wrapper: VueWrapper | null = null;

/** `attached`: in the document, so key presses reach the window's listeners */
function mountApp(o: { attached?: boolean } = {}): VueWrapper {
  wrapper = mount(App, {
    global: { plugins: [createPinia()], stubs: { BaseChart: ChartStub } },
    attachTo: o.attached ? document.body : undefined,
  });
  return wrapper;
}
const byId = (w: VueWrapper, id: string) => w.get(`[data-testid="${id}"]`);

afterEach(() => {
  wrapper?.unmount();
  wrapper = null;
  setApi(null);
});

describe('App', () => {
  it('says where to open it when there is no bridge', async () => {
    const w = mountApp();
    await flushPromises();
    expect(byId(w, 'no-bridge').text()).toContain('inside the CF Studio window or its browser preview');
  });

  it('runs the new-detector flow from folder to run view', async () => {
    const { api, trained } = makeApi();
    setApi(api);
    const w = mountApp();
    await flushPromises();
    expect(byId(w, 'app-workspace').text()).toBe('/home/me/cfstudio.sqlite');
    expect(byId(w, 'app-backend').text()).toBe('wasm');
    expect(byId(w, 'extractor-spec').text()).toContain('224 × 224');

    // inliers: pick → scan job → card
    await byId(w, 'pick-inliers').trigger('click');
    await flushPromises();
    await new Promise((r) => setTimeout(r, 5));
    await flushPromises();
    const card = byId(w, 'dataset-card');
    expect(card.attributes('data-dataset-id')).toBe('1');
    expect(byId(w, 'dataset-ok-count').text()).toBe('3');
    expect(byId(w, 'dataset-skipped-count').text()).toBe('1');
    expect(w.findAll('[data-testid="skipped-row"]')).toHaveLength(1);
    expect(w.findAll('[data-testid="thumb"]')).toHaveLength(3);
    expect(w.find('[data-testid="start-train"]').attributes('disabled')).toBeDefined();

    // contrast: a second folder
    await byId(w, 'pick-contrast').trigger('click');
    await new Promise((r) => setTimeout(r, 5));
    await flushPromises();
    expect(w.findAll('[data-testid="dataset-card"]').map((c) => c.attributes('data-dataset-id'))).toEqual([
      '1',
      '2',
    ]);

    expect((byId(w, 'select-contrast').element as HTMLSelectElement).value).toBe('2');
    expect((byId(w, 'select-inliers').element as HTMLSelectElement).value).toBe('1');

    // a labelled test set blocks training until its inlier labels are chosen
    await byId(w, 'select-test').setValue('1');
    await flushPromises();
    expect(byId(w, 'start-train').attributes('disabled')).toBeDefined();
    await w.findAll('[data-testid="test-label"]')[1].setValue(true);
    // the flow settings start empty: auto, chosen by the engine from the number of inliers
    for (const input of ['input-steps', 'input-hidden', 'input-blocks']) {
      expect((byId(w, input).element as HTMLInputElement).value, input).toBe('');
      expect(byId(w, input).attributes('placeholder'), input).toBe('auto');
    }
    expect((byId(w, 'input-eps').element as HTMLInputElement).value).toBe('');
    expect(byId(w, 'input-eps').attributes('placeholder')).toBe('tracking');
    expect(byId(w, 'flow-auto-hint').text()).toContain('Empty = chosen from the number of inlier images');
    await byId(w, 'input-eps').setValue('auto');
    // a value typed must be valid
    await byId(w, 'input-steps').setValue('0');
    expect(byId(w, 'start-train').attributes('disabled')).toBeDefined();
    expect(w.find('.problems').text()).toContain('Steps must be a whole number ≥ 1 (or empty: auto).');
    await byId(w, 'input-steps').setValue('50');
    // a value typed, then cleared: auto again
    await byId(w, 'input-hidden').setValue('64');
    await byId(w, 'input-hidden').setValue('');
    expect(byId(w, 'start-train').attributes('disabled')).toBeUndefined();
    await byId(w, 'start-train').trigger('click');
    await flushPromises();
    expect(trained).toEqual([
      expect.objectContaining({
        method: 'cf',
        steps: 50,
        eps: 'auto',
        extractorId: 3,
        inliers: { datasetId: 1, labels: null },
        contrast: { datasetId: 2, labels: null },
        test: { datasetId: 1, inlierLabels: ['white'] },
      }),
    ]);
    expect(trained[0]).not.toHaveProperty('hidden');
    expect(trained[0]).not.toHaveProperty('blocks');

    api.emit({
      jobId: 'train-1',
      kind: 'train',
      type: 'progress',
      progress: { phase: 'train cf', done: 10, total: 50, rate: 5, etaSeconds: 8, backend: 'wasm' },
    });
    api.emit({
      jobId: 'train-1',
      kind: 'train',
      type: 'loss',
      point: { step: 10, inlierNll: 2, contrastNll: 3 },
    });
    await flushPromises();
    const progress = byId(w, 'job-progress');
    expect([
      progress.attributes('data-phase'),
      progress.attributes('data-done'),
      progress.attributes('data-total'),
    ]).toEqual(['train', '10', '50']);
    expect(byId(w, 'loss-chart').attributes('data-points')).toBe('1');
    // Cancel asks main to cancel this job (the job then ends with 'done' below anyway)
    await byId(w, 'job-cancel').trigger('click');
    expect(api.calls.filter((c) => c.channel === 'jobs:cancel').map((c) => c.args)).toEqual([
      [{ jobId: 'train-1' }],
    ]);

    api.emit({ jobId: 'train-1', kind: 'train', type: 'done', result: { kind: 'train', runId: 9 } });
    await flushPromises();
    await flushPromises();

    // run view
    expect(byId(w, 'run-view').attributes('data-run-id')).toBe('9');
    expect(byId(w, 'run-auroc').text()).toBe('91.8 %');
    expect(byId(w, 'run-backend').text()).toBe('wasm');
    expect(byId(w, 'run-status').text()).toBe('done');
    const dist = byId(w, 'distribution-table');
    expect(
      dist.findAll('tbody tr').map((r) => [r.attributes('data-group'), r.attributes('data-count')]),
    ).toEqual([
      ['inliers (held-out)', '3'],
      ['contrast: imagenet', '5'],
    ]);
    expect(byId(w, 'distribution-chart').attributes('data-threshold')).toBe('7.8');
    expect(byId(w, 'run-aupr').text()).toBe('87 %');
    expect(byId(w, 'decision-precision').text()).toBe('90 %');
    expect(byId(w, 'group-auroc-table').text()).toContain('91.8 %');
    expect(w.findAll('[data-testid="fig5-tile"]')).toHaveLength(1);
    expect(byId(w, 'threshold-value').text()).toBe('7.80');
    // virtualized: 8 scored, one per row without layout width, only a screenful of rows rendered
    expect(byId(w, 'gallery').attributes('data-total')).toBe('8');
    const tiles = w.findAll('[data-testid="gallery-tile"]');
    expect(tiles.map((t) => t.attributes('data-rank'))).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(tiles.map((t) => t.attributes('data-flagged'))).toEqual([
      'true',
      'true',
      'true',
      'false',
      'false',
      'false',
    ]);

    const fpr = byId(w, 'threshold-fpr');
    (fpr.element as HTMLInputElement).value = '10';
    await fpr.trigger('input');
    await fpr.trigger('keydown', { key: 'Enter' });
    await fpr.trigger('change');
    await flushPromises();
    expect(api.calls.filter((c) => c.channel === 'runs:setThreshold').map((c) => c.args[0])).toEqual([
      { runId: 9, targetFpr: 0.1 },
    ]);
    expect(byId(w, 'flagged-count').text()).toBe('4');

    await byId(w, 'gallery-group-filter').setValue('inliers (held-out)');
    await flushPromises();
    expect(w.findAll('[data-testid="gallery-tile"]').map((t) => t.attributes('data-rank'))).toEqual([
      '6',
      '7',
      '8',
    ]);

    await w.findAll('[data-testid="gallery-tile"]')[0].trigger('click');
    await flushPromises();
    expect(byId(w, 'item-rank').text()).toBe('6');
    expect(byId(w, 'item-score').text()).toBe('4.50');
    expect(byId(w, 'item-path').text()).toBe('/data/imagenet/img5.png');
    expect(w.findAll('[data-testid="neighbor-tile"]')).toHaveLength(2);

    window.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await flushPromises();
    expect(w.find('[data-testid="item-detail"]').exists()).toBe(false);
  });

  it('lists runs and compares two of them in a one-vs-rest matrix', async () => {
    const { api } = makeApi();
    setApi(api);
    const w = mountApp();
    await flushPromises();
    await byId(w, 'nav-runs').trigger('click');
    await flushPromises();
    const rows = w.findAll('[data-testid="run-row"]');
    expect(rows.map((r) => r.attributes('data-run-id'))).toEqual(['9', '10']);
    expect(rows[0].text()).toContain('91.8 %');
    // AUPR beside AUROC, formatted the same; a dash when the run has none
    const headers = byId(w, 'runs-table')
      .findAll('thead th')
      .map((th) => th.text());
    expect(headers.indexOf('AUPR')).toBe(headers.indexOf('AUROC') + 1);
    const aupr = rows.map((r) => r.get('[data-testid="run-aupr"]'));
    expect(aupr.map((td) => td.text())).toEqual(['87.1 %', '—']);
    expect(aupr.map((td) => td.attributes('data-value'))).toEqual(['0.8712', '']);
    for (const box of w.findAll('[data-testid="compare-select"]')) await box.setValue(true);
    await byId(w, 'nav-compare').trigger('click');
    await flushPromises();
    expect(byId(w, 'compare-table').text()).toContain('80.0 %');
    const matrix = byId(w, 'ovr-matrix');
    expect(matrix.findAll('tbody th').map((t) => t.text())).toEqual(['cats', 'dogs']);
  });

  it('exports a CSV and scores a folder into a new score run', async () => {
    const { api } = makeApi();
    setApi(api);
    const w = mountApp();
    await flushPromises();
    await byId(w, 'nav-runs').trigger('click');
    await flushPromises();
    await w.findAll('[data-testid="run-open"]')[0].trigger('click');
    await flushPromises();
    expect(byId(w, 'run-view').attributes('data-run-id')).toBe('9');

    await byId(w, 'export-csv').trigger('click');
    await new Promise((r) => setTimeout(r, 5));
    await flushPromises();
    expect(byId(w, 'export-done').text()).toContain('/out/run-9.csv');
    expect(api.calls.find((c) => c.channel === 'runs:export')?.args[0]).toEqual({
      runId: 9,
      format: 'csv',
      path: '/out/run-9.csv',
    });

    await byId(w, 'score-folder').trigger('click');
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 5));
      await flushPromises();
    }
    expect(api.calls.find((c) => c.channel === 'runs:score')?.args[0]).toEqual({ runId: 9, datasetId: 1 });
    expect(api.calls.filter((c) => c.channel === 'runs:get').map((c) => c.args[0])).toEqual([
      { id: 9 },
      { id: 11 },
    ]);
  });

  it('shows an error with its hint in the banner', async () => {
    const { api } = makeApi();
    const failing = fakeApi({
      'app:info': () => api.invoke('app:info'),
      'datasets:list': () => [],
      'extractors:list': () => [],
      'methods:list': () => [],
      'dialog:pickFolder': () => '/nope',
      'datasets:add': () => {
        throw Object.assign(new Error('/nope is not a folder'), {
          apiError: {
            message: 'add a dataset: /nope is not a folder',
            hint: 'drop or pick a folder of images',
            kind: 'user',
          },
        });
      },
    });
    setApi(failing);
    const w = mountApp();
    await flushPromises();
    await byId(w, 'pick-inliers').trigger('click');
    await flushPromises();
    const banner = byId(w, 'error-banner');
    expect(banner.text()).toContain('add a dataset: /nope is not a folder');
    expect(banner.text()).toContain('drop or pick a folder of images');
    expect(banner.text()).not.toContain(' at ');
  });
});

describe('App: the analyst’s loop', () => {
  afterEach(() => vi.useRealTimers());

  it('opens the run view when the training job records its run, follows it, then shows the results', async () => {
    // only the timers of the view's polling are faked (promises still flush)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let status: RunDetail['status'] = 'running';
    let done = 200;
    const { api } = makeApi({
      'runs:get': ({ id }) =>
        status === 'running'
          ? {
              ...detail,
              id,
              status,
              scored: 0,
              histograms: null,
              roc: null,
              picks: [],
              distributions: [],
              decision: null,
              live: {
                phase: 'train cf',
                done,
                total: 1500,
                rate: 150,
                etaSeconds: (1500 - done) / 150,
                contrastAboveEps: 0.35,
                updated: '2026-12-01T10:00:00Z',
              },
              losses: [
                { step: 100, inlierNll: 3, contrastNll: 3.5, contrastAboveEps: 0.5 },
                { step: done, inlierNll: 2.5, contrastNll: 4, contrastAboveEps: 0.35 },
              ],
            }
          : { ...detail, id },
    });
    setApi(api);
    const w = mountApp();
    await flushPromises();
    // Train (the form itself is the first test's): the store call its button makes
    const started = useRunsStore().train({
      method: 'cf',
      inliers: { datasetId: 1, labels: null },
      contrast: { datasetId: 2, labels: null },
      extractorId: 3,
      steps: 1500,
      eps: 0,
      hidden: 64,
      blocks: 2,
      seed: 0,
    });
    await flushPromises();
    expect(w.find('[data-testid="run-view"]').exists()).toBe(false);
    api.emit({ jobId: 'train-1', kind: 'train', type: 'run', runId: 9 });
    await flushPromises();
    await flushPromises();
    // the run view took over, following the run
    expect(byId(w, 'run-view').attributes('data-run-id')).toBe('9');
    expect(byId(w, 'run-status').text()).toBe('running');
    expect(byId(w, 'live-run').attributes('data-done')).toBe('200');
    expect(byId(w, 'live-above-eps').text()).toBe('35 %');
    expect(byId(w, 'loss-chart').attributes('data-points')).toBe('2');
    expect(w.find('[data-testid="gallery"]').exists()).toBe(false);
    // this window's job: it can be cancelled from the view
    await byId(w, 'live-cancel').trigger('click');
    expect(api.calls.filter((c) => c.channel === 'jobs:cancel')).toHaveLength(1);

    done = 900;
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    await flushPromises();
    expect(byId(w, 'live-run').attributes('data-done')).toBe('900');

    // training ends: the same view shows the results
    status = 'done';
    api.emit({ jobId: 'train-1', kind: 'train', type: 'done', result: { kind: 'train', runId: 9 } });
    await started;
    await vi.advanceTimersByTimeAsync(LIVE_POLL_MS);
    await flushPromises();
    expect(byId(w, 'run-status').text()).toBe('done');
    expect(w.find('[data-testid="live-run"]').exists()).toBe(false);
    expect(w.findAll('[data-testid="gallery-tile"]').length).toBeGreaterThan(0);
    expect(w.find('[data-testid="distribution-chart"]').exists()).toBe(true);
    expect(w.findAll('[data-testid="prototype"]')).toHaveLength(8);
    // the view is closed: no more polling
    await byId(w, 'nav-runs').trigger('click');
    const gets = api.calls.filter((c) => c.channel === 'runs:get').length;
    await vi.advanceTimersByTimeAsync(5 * LIVE_POLL_MS);
    expect(api.calls.filter((c) => c.channel === 'runs:get').length).toBe(gets);
  });

  it('marks images with the keyboard and multi-select, retrains with them, and shows before/after', async () => {
    const marks = new Map<number, 'normal' | 'anomaly'>();
    const counts = (): MarkCounts => ({
      normal: [...marks.values()].filter((m) => m === 'normal').length,
      anomaly: [...marks.values()].filter((m) => m === 'anomaly').length,
    });
    /** marks on run 9's score run 13 (none until another window marks some) */
    let onScoreRun: MarkCounts = { normal: 0, anomaly: 0 };
    const feedback = (): RunDetail['feedback'] => ({
      normal: counts().normal + onScoreRun.normal,
      anomaly: counts().anomaly + onScoreRun.anomaly,
      fromRuns: [...(marks.size > 0 ? [9] : []), ...(onScoreRun.normal + onScoreRun.anomaly > 0 ? [13] : [])],
    });
    const comparison: RetrainComparison = {
      fromRunId: 9,
      targetFpr: 0.05,
      normals: 0,
      anomalies: 2,
      anomalyCopies: 3,
      evaluated: 6,
      before: { threshold: 7.8, flagged: 3, auroc: 0.9183, perGroup: { imagenet: 0.9183 } },
      after: { threshold: 7.5, flagged: 4, auroc: 0.95, perGroup: { imagenet: 0.95 } },
      moved: [
        {
          itemId: 103,
          relPath: 'img3.png',
          mark: 'anomaly',
          before: 6.7,
          after: 9,
          flaggedBefore: false,
          flaggedAfter: true,
        },
        {
          itemId: 104,
          relPath: 'img4.png',
          mark: 'anomaly',
          before: 5.6,
          after: 6,
          flaggedBefore: false,
          flaggedAfter: false,
        },
      ],
    };
    const { api } = makeApi({
      'runs:get': ({ id }) =>
        id === 12
          ? { ...detail, id, name: 'retrained', retrain: comparison }
          : { ...detail, marks: counts(), feedback: feedback() },
      'runs:scores': ({ offset, limit }) => ({
        total: scoredItems.length,
        items: scoredItems
          .slice(offset, offset + limit)
          .map((s) => ({ ...s, mark: marks.get(s.itemId) ?? null })),
      }),
      'runs:mark': ({ itemIds, mark }) => {
        for (const id of itemIds) {
          if (mark === null) marks.delete(id);
          else marks.set(id, mark);
        }
        return counts();
      },
      'runs:item': ({ itemId }) => ({
        ...scoredItems.find((x) => x.itemId === itemId)!,
        mark: marks.get(itemId) ?? null,
        path: `/data/img${itemId}.png`,
        neighbors: [],
      }),
      'runs:retrain': () => ({ jobId: 'retrain-1' }),
    });
    setApi(api);
    const w = mountApp({ attached: true });
    await flushPromises();
    await byId(w, 'nav-runs').trigger('click');
    await flushPromises();
    await w.findAll('[data-testid="run-open"]')[0].trigger('click');
    await flushPromises();
    expect(byId(w, 'retrain').attributes('disabled')).toBeDefined();

    // click 3rd, Shift-click 5th: three selected; A marks them confirmed anomalies
    const tile = (i: number) => w.findAll('[data-testid="gallery-tile"]')[i];
    await tile(2).trigger('click');
    await flushPromises();
    await tile(4).trigger('click', { shiftKey: true });
    await flushPromises();
    expect(byId(w, 'selection-count').text()).toBe('3 selected');
    await tile(4).trigger('keydown', { key: 'a' });
    await flushPromises();
    expect(api.calls.find((c) => c.channel === 'runs:mark')?.args[0]).toEqual({
      runId: 9,
      itemIds: [102, 103, 104],
      mark: 'anomaly',
    });
    expect(w.findAll('[data-testid="gallery-tile"]').map((t) => t.attributes('data-mark'))).toEqual([
      '',
      '',
      'anomaly',
      'anomaly',
      'anomaly',
      '',
    ]);
    // the button counts what the engine says a retrain would use (run 9 re-read after the mark)
    const gets = () => api.calls.filter((c) => c.channel === 'runs:get').map((c) => c.args[0]);
    expect(gets()).toEqual([{ id: 9 }, { id: 9 }]);
    expect(byId(w, 'retrain').text()).toBe('Retrain with feedback (3)');
    expect(byId(w, 'retrain').attributes('disabled')).toBeUndefined();
    // another window marks 2 false alarms on the score run: the next re-read brings them in
    onScoreRun = { normal: 2, anomaly: 0 };
    // Ctrl-click takes one out; U clears its mark; the detail shows the open image's mark
    await tile(2).trigger('click', { ctrlKey: true });
    await flushPromises();
    expect(byId(w, 'selection-count').text()).toBe('2 selected');
    await tile(2).trigger('click');
    await flushPromises();
    expect(byId(w, 'item-mark').text()).toBe('anomaly (confirmed)');
    await tile(2).trigger('keydown', { key: 'u' });
    await flushPromises();
    expect(marks.has(102)).toBe(false);
    expect(byId(w, 'item-mark').text()).toBe('none');
    // N in a text field types, it does not mark
    await byId(w, 'threshold-fpr').trigger('keydown', { key: 'n' });
    await flushPromises();
    expect(api.calls.filter((c) => c.channel === 'runs:mark')).toHaveLength(2);
    expect(byId(w, 'mark-counts').attributes('data-anomaly')).toBe('2');
    expect(byId(w, 'mark-counts').text()).toMatch(/· a retrain uses 4, with 1 related list$/);
    expect(byId(w, 'retrain').text()).toBe('Retrain with feedback (4)');
    // one runs:get per re-read of this run, none for the related run 13
    expect(gets()).toEqual([{ id: 9 }, { id: 9 }, { id: 9 }]);

    // retrain: the job's progress, then the new run with before/after
    await byId(w, 'retrain').trigger('click');
    await flushPromises();
    expect(api.calls.find((c) => c.channel === 'runs:retrain')?.args[0]).toEqual({ runId: 9 });
    api.emit({
      jobId: 'retrain-1',
      kind: 'train',
      type: 'progress',
      progress: { phase: 'train cf', done: 40, total: 400, rate: 80, etaSeconds: 4.5 },
    });
    await flushPromises();
    expect(byId(w, 'retrain-progress').attributes('data-done')).toBe('40');
    api.emit({ jobId: 'retrain-1', kind: 'train', type: 'done', result: { kind: 'train', runId: 12 } });
    await flushPromises();
    await flushPromises();
    expect(byId(w, 'run-view').attributes('data-run-id')).toBe('12');
    const rows = w.findAll('[data-testid="retrain-row"]');
    expect(rows.map((r) => r.attributes('data-key'))).toEqual([
      'flagged',
      'threshold',
      'auroc',
      'group:imagenet',
    ]);
    expect(rows[2].text()).toContain('+3.2 pt');
    expect(w.findAll('[data-testid="moved-tile"]').map((t) => t.attributes('data-item-id'))).toEqual(['103']);
  });
});
