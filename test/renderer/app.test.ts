// @vitest-environment happy-dom
/**
 * The desktop flow through the whole App, against a fake bridge (./fakeApi.ts): pick a folder →
 * scan job → dataset card → train job with live progress → run view with threshold, gallery and
 * item detail; runs list and compare. Charts are stubbed (no canvas in happy-dom).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatasetDetail, RunDetail, RunSummary, ScoredItem, TrainRequest } from '../../src/shared/ipc';
import App from '../../src/renderer/src/App.vue';
import { setApi } from '../../src/renderer/src/lib/api';
import { fakeApi, type FakeApi } from './fakeApi';

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
}));

const detail: RunDetail = {
  ...summary,
  children: [],
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

function makeApi(): { api: FakeApi; trained: TrainRequest[] } {
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
      { ...summary, id: 10, inliers: 'dogs', perGroup: { 'contrast: imagenet': 0.8 } },
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
  });
  return { api, trained };
}

const ChartStub = { props: ['option', 'label'], template: '<div class="chart-stub"></div>' };
let wrapper: VueWrapper | null = null;

function mountApp(): VueWrapper {
  wrapper = mount(App, { global: { plugins: [createPinia()], stubs: { BaseChart: ChartStub } } });
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
    await byId(w, 'input-eps').setValue('auto');
    await byId(w, 'input-steps').setValue('50');
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
    const hist = byId(w, 'histogram-table');
    expect(hist.findAll('tr').map((r) => r.findAll('th, td').map((c) => c.text()))).toEqual([
      ['inliers (held-out)', '3', '0'],
      ['contrast: imagenet', '1', '4'],
    ]);
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
