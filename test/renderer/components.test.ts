// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import type { DatasetDetail, PickInfo, ScoredItem } from '../../src/shared/ipc';
import DatasetCard from '../../src/renderer/src/components/DatasetCard.vue';
import ErrorBanner from '../../src/renderer/src/components/ErrorBanner.vue';
import Fig5Strip from '../../src/renderer/src/components/Fig5Strip.vue';
import Gallery from '../../src/renderer/src/components/Gallery.vue';
import HistogramChart from '../../src/renderer/src/components/HistogramChart.vue';
import JobProgress from '../../src/renderer/src/components/JobProgress.vue';
import ThresholdControl from '../../src/renderer/src/components/ThresholdControl.vue';
import { newJob, reduceJob } from '../../src/renderer/src/stores/jobReducer';

function item(rank: number, score: number, flagged: boolean): ScoredItem {
  return {
    itemId: 500 + rank,
    datasetId: 2,
    rank,
    score,
    relPath: `horse/${rank}.png`,
    label: 'horse',
    group: 'test: horse',
    anomaly: true,
    flagged,
  };
}

describe('Gallery', () => {
  it('renders tiles in rank order across pages with full-precision scores and flags', async () => {
    const pages = new Map<number, ScoredItem[]>([
      [0, [item(1, 9.87654321, true), item(2, 7.5, true)]],
      [1, [item(3, 1.234567, false)]],
    ]);
    const wrapper = mount(Gallery, { props: { total: 3, pageSize: 2, pages } });
    await nextTick();
    const tiles = wrapper.findAll('[data-testid="gallery-tile"]');
    expect(tiles.map((t) => t.attributes('data-rank'))).toEqual(['1', '2', '3']);
    expect(tiles.map((t) => t.attributes('data-score'))).toEqual(['9.87654321', '7.5', '1.234567']);
    expect(tiles.map((t) => t.attributes('data-flagged'))).toEqual(['true', 'true', 'false']);
    expect(tiles[0].text()).toContain('9.88');
    expect(tiles[0].text()).toContain('#1');
    await tiles[2].trigger('click');
    expect(wrapper.emitted('select')?.[0]).toEqual([item(3, 1.234567, false)]);
  });

  it('asks for the pages it shows but does not have', async () => {
    const pages = new Map<number, ScoredItem[]>([[0, [item(1, 5, false), item(2, 4, false)]]]);
    const wrapper = mount(Gallery, { props: { total: 4, pageSize: 2, pages } });
    await nextTick();
    expect(wrapper.emitted('need')?.[0]).toEqual([[1]]);
    expect(wrapper.findAll('[data-testid="gallery-tile"]')).toHaveLength(2);
  });
});

describe('Fig5Strip', () => {
  const picks: PickInfo[] = [
    { group: 'strangest-inlier', rank: 1, itemId: 31, score: 8.123456, relPath: 'cat/31.png', label: 'cat' },
    { group: 'lowest-inlier', rank: 2, itemId: 12, score: -3.5, relPath: 'cat/12.png', label: 'cat' },
    { group: 'lowest-inlier', rank: 1, itemId: 11, score: -4.25, relPath: 'cat/11.png', label: 'cat' },
    { group: 'hardest-anomaly', rank: 1, itemId: 21, score: -1.0049, relPath: 'dog/21.png', label: 'dog' },
  ];

  it('groups the picks in paper order, ranked within each group', () => {
    const wrapper = mount(Fig5Strip, { props: { picks } });
    const tiles = wrapper.findAll('[data-testid="fig5-tile"]');
    expect(tiles.map((t) => [t.attributes('data-group'), t.attributes('data-item-id')])).toEqual([
      ['lowest-inlier', '11'],
      ['lowest-inlier', '12'],
      ['hardest-anomaly', '21'],
      ['strangest-inlier', '31'],
    ]);
    expect(tiles[3].attributes('data-score')).toBe('8.123456');
    expect(tiles[2].text()).toBe('-1.00');
  });

  it('emits the clicked item', async () => {
    const wrapper = mount(Fig5Strip, { props: { picks } });
    await wrapper.findAll('[data-testid="fig5-tile"]')[2].trigger('click');
    expect(wrapper.emitted('select')).toEqual([[21]]);
  });
});

describe('ThresholdControl', () => {
  const info = { threshold: 4.56789, targetFpr: 0.05, heldOutFpr: 0.048, heldOutCount: 250, flagged: 37 };

  it('shows the threshold, held-out FPR and flagged count', () => {
    const wrapper = mount(ThresholdControl, { props: { targetFpr: 0.05, info } });
    expect(wrapper.get('[data-testid="threshold-value"]').text()).toBe('4.57');
    expect(wrapper.get('[data-testid="flagged-count"]').text()).toBe('37');
    expect(wrapper.get('[data-testid="threshold-heldout-fpr"]').text()).toContain('4.8 %');
    expect((wrapper.get('[data-testid="threshold-fpr"]').element as HTMLInputElement).value).toBe('5');
  });

  it('emits the new target FPR (a fraction) from the number input, clamped to 0.1 %–50 %', async () => {
    const wrapper = mount(ThresholdControl, { props: { targetFpr: 0.05, info } });
    const input = wrapper.get('[data-testid="threshold-fpr"]');
    await input.setValue('1');
    await input.setValue('80');
    await input.setValue('0.01');
    expect(wrapper.emitted('update:targetFpr')).toEqual([[0.01], [0.5], [0.001]]);
  });

  it('emits from the slider on release, not while dragging', async () => {
    const wrapper = mount(ThresholdControl, { props: { targetFpr: 0.05, info } });
    const slider = wrapper.get('[data-testid="threshold-slider"]');
    (slider.element as HTMLInputElement).value = '0';
    await slider.trigger('input');
    expect(wrapper.emitted('update:targetFpr')).toBeUndefined();
    expect((wrapper.get('[data-testid="threshold-fpr"]').element as HTMLInputElement).value).toBe('0.1');
    await slider.trigger('change');
    expect(wrapper.emitted('update:targetFpr')).toEqual([[0.001]]);
  });
});

describe('ThresholdControl (read-only)', () => {
  it('disables both inputs for a score run', () => {
    const wrapper = mount(ThresholdControl, { props: { targetFpr: 0.05, info: null, readonly: true } });
    expect(wrapper.get('[data-testid="threshold-fpr"]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="threshold-slider"]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="flagged-count"]').text()).toBe('—');
  });
});

describe('DatasetCard', () => {
  const dataset: DatasetDetail = {
    id: 4,
    name: 'pets',
    kind: 'image',
    root: '/data/pets',
    created: '2026-11-29T00:00:00Z',
    ok: 1234,
    skipped: 2,
    labels: [
      { label: 'cat', count: 600 },
      { label: 'dog', count: 634 },
    ],
    skippedFiles: [
      { relPath: 'cat/broken.jpg', reason: 'unreadable: truncated JPEG' },
      { relPath: 'notes.txt', reason: 'not an image' },
    ],
    featureCounts: {},
  };

  it('shows counts, labels and skipped files with reasons', () => {
    const wrapper = mount(DatasetCard, { props: { dataset, thumbs: [], title: 'Inliers' } });
    expect(wrapper.get('[data-testid="dataset-card"]').attributes('data-dataset-id')).toBe('4');
    expect(wrapper.get('[data-testid="dataset-ok-count"]').text()).toBe('1,234');
    expect(wrapper.get('[data-testid="dataset-skipped-count"]').text()).toBe('2');
    const rows = wrapper.findAll('[data-testid="skipped-row"]');
    expect(rows.map((r) => r.text())).toEqual([
      'cat/broken.jpgunreadable: truncated JPEG',
      'notes.txtnot an image',
    ]);
  });

  it('emits the label selection, null when all labels are on again', async () => {
    const wrapper = mount(DatasetCard, {
      props: { dataset, thumbs: [], title: 'Inliers', selectable: true, selected: null },
    });
    const boxes = wrapper.findAll('[data-testid="label-toggle"]');
    await boxes[1].setValue(false);
    expect(wrapper.emitted('update:selected')?.[0]).toEqual([['cat']]);
    const narrowed = mount(DatasetCard, {
      props: { dataset, thumbs: [], title: 'Inliers', selectable: true, selected: ['cat'] },
    });
    await narrowed.findAll('[data-testid="label-toggle"]')[1].setValue(true);
    expect(narrowed.emitted('update:selected')?.[0]).toEqual([null]);
  });
});

describe('JobProgress and ErrorBanner', () => {
  it('exposes phase, done and total for the end-to-end test; Cancel emits cancel', async () => {
    const job = reduceJob(newJob('j', 'train', 'Training cf'), {
      jobId: 'j',
      kind: 'train',
      type: 'progress',
      progress: {
        phase: 'extract train',
        done: 40,
        total: 120,
        rate: 12.5,
        etaSeconds: 6.4,
        backend: 'wasm',
      },
    });
    const wrapper = mount(JobProgress, { props: { job, cancellable: true } });
    const root = wrapper.get('[data-testid="job-progress"]');
    expect([
      root.attributes('data-phase'),
      root.attributes('data-done'),
      root.attributes('data-total'),
    ]).toEqual(['extract', '40', '120']);
    expect(root.text()).toContain('12.5/s');
    expect(root.text()).toContain('wasm');
    await wrapper.get('[data-testid="job-cancel"]').trigger('click');
    expect(wrapper.emitted('cancel')).toEqual([[]]);
  });

  it('shows message and hint', () => {
    const wrapper = mount(ErrorBanner, {
      props: { error: { message: 'No images in /tmp/x', hint: 'Pick a folder with images.', kind: 'user' } },
    });
    const text = wrapper.get('[data-testid="error-banner"]').text();
    expect(text).toContain('No images in /tmp/x');
    expect(text).toContain('Pick a folder with images.');
  });
});

describe('HistogramChart', () => {
  const histograms = {
    edges: [0, 1, 2, 3],
    clippedAbove: 3.75,
    series: [
      { group: 'inliers (held-out)', anomaly: false, counts: [5, 2, 0] },
      { group: 'contrast: ship', anomaly: true, counts: [0, 3, 9] },
    ],
  };

  it('has a hidden table with one row per group: name, then one count per bin', () => {
    const wrapper = mount(HistogramChart, {
      props: { histograms },
      // happy-dom has no canvas for ECharts; the real chart is drawn in Chromium (test/e2e)
      global: { stubs: { BaseChart: { template: '<div />' } } },
    });
    const rows = wrapper.get('[data-testid="histogram-table"]').findAll('tr');
    expect(rows.map((r) => [r.get('th').text(), ...r.findAll('td').map((td) => td.text())])).toEqual([
      ['inliers (held-out)', '5', '2', '0'],
      ['contrast: ship', '0', '3', '9'],
    ]);
    expect(rows[1].findAll('td')[2].attributes('aria-label')).toBe('2.00 and above: 9');
    expect(wrapper.get('[data-testid="histogram-clipped"]').text()).toContain('3.75');
  });
});
