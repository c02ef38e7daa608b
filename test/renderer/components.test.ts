// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import type {
  DatasetDetail,
  ItemScoreDetail,
  PickInfo,
  PrototypesInfo,
  RetrainComparison,
  RunDetail,
  ScoreDistribution,
  ScoredItem,
} from '../../src/shared/ipc';
import DatasetCard from '../../src/renderer/src/components/DatasetCard.vue';
import ErrorBanner from '../../src/renderer/src/components/ErrorBanner.vue';
import Fig5Strip from '../../src/renderer/src/components/Fig5Strip.vue';
import Gallery from '../../src/renderer/src/components/Gallery.vue';
import DecisionMetrics from '../../src/renderer/src/components/DecisionMetrics.vue';
import DistributionChart from '../../src/renderer/src/components/DistributionChart.vue';
import FeedbackBar from '../../src/renderer/src/components/FeedbackBar.vue';
import ItemDetail from '../../src/renderer/src/components/ItemDetail.vue';
import JobProgress from '../../src/renderer/src/components/JobProgress.vue';
import LiveRunPanel from '../../src/renderer/src/components/LiveRunPanel.vue';
import PrototypesStrip from '../../src/renderer/src/components/PrototypesStrip.vue';
import RetrainPanel from '../../src/renderer/src/components/RetrainPanel.vue';
import ThresholdControl from '../../src/renderer/src/components/ThresholdControl.vue';
import { newJob, reduceJob } from '../../src/renderer/src/stores/jobReducer';

/**
 * setProps through a loose signature: the root `tsc` reads .vue files through a shim without their
 * prop types (vue-tsc, test/renderer/tsconfig.json, checks them for real).
 */
function setProps(
  w: { setProps(props: Record<string, unknown>): Promise<void> },
  props: Record<string, unknown>,
): Promise<void> {
  return w.setProps(props);
}

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
    mark: null,
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
    expect(wrapper.emitted('select')?.[0]).toEqual([item(3, 1.234567, false), { index: 2, mode: 'single' }]);
  });

  it('selects with Shift and Ctrl/Cmd, shows selection and marks, and moves with the arrow keys', async () => {
    const marked = [
      { ...item(1, 9, true), mark: 'anomaly' as const },
      { ...item(2, 8, true), mark: 'normal' as const },
      item(3, 1, false),
    ];
    const wrapper = mount(Gallery, {
      props: {
        total: 3,
        pageSize: 3,
        pages: new Map([[0, marked]]),
        selectedIds: new Set([502]),
        focusIndex: 1,
      },
      attachTo: document.body,
    });
    await nextTick();
    const tiles = wrapper.findAll('[data-testid="gallery-tile"]');
    expect(tiles.map((t) => t.attributes('data-mark'))).toEqual(['anomaly', 'normal', '']);
    expect(tiles.map((t) => t.attributes('aria-selected'))).toEqual(['false', 'true', 'false']);
    expect(tiles[0].attributes('aria-label')).toContain('marked anomaly (confirmed)');
    expect(tiles[1].attributes('aria-label')).toContain('marked normal (a false alarm)');
    expect(wrapper.findAll('[data-testid="tile-mark"]').map((b) => b.text())).toEqual(['anomaly', 'normal']);
    // roving focus: only the focused tile is in the tab order
    expect(tiles.map((t) => t.attributes('tabindex'))).toEqual(['-1', '0', '-1']);
    await tiles[2].trigger('click', { shiftKey: true });
    await tiles[0].trigger('click', { ctrlKey: true });
    await tiles[0].trigger('click', { metaKey: true });
    expect(wrapper.emitted('select')?.map((e) => e[1])).toEqual([
      { index: 2, mode: 'range' },
      { index: 0, mode: 'toggle' },
      { index: 0, mode: 'toggle' },
    ]);
    // without layout every tile is its own row: Down is the next tile; Shift extends
    await wrapper.get('[data-testid="gallery"]').trigger('keydown', { key: 'ArrowDown' });
    await wrapper.get('[data-testid="gallery"]').trigger('keydown', { key: 'ArrowUp', shiftKey: true });
    expect(
      wrapper
        .emitted('select')
        ?.slice(3)
        .map((e) => [(e[0] as ScoredItem).rank, e[1]]),
    ).toEqual([
      [3, { index: 2, mode: 'single' }],
      [1, { index: 0, mode: 'range' }],
    ]);
    // the focused position's tile takes the focus
    await setProps(wrapper, { focusIndex: 2 });
    await nextTick();
    await nextTick();
    expect(document.activeElement?.getAttribute('data-index')).toBe('2');
    wrapper.unmount();
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

describe('ThresholdControl preview', () => {
  it('emits the FPR the slider points at while dragging, and null when released unchanged', async () => {
    const info = { threshold: 4.5, targetFpr: 0.05, heldOutFpr: 0.05, heldOutCount: 100, flagged: 5 };
    const wrapper = mount(ThresholdControl, { props: { targetFpr: 0.05, info } });
    const slider = wrapper.get('[data-testid="threshold-slider"]');
    (slider.element as HTMLInputElement).value = '200';
    await slider.trigger('input');
    expect(wrapper.emitted('preview')).toEqual([[0.5]]);
    // back where it was, then released: nothing to store, the preview ends
    (slider.element as HTMLInputElement).value = String((slider.element as HTMLInputElement).defaultValue);
    wrapper.unmount();
    const again = mount(ThresholdControl, { props: { targetFpr: 0.5, info } });
    const s2 = again.get('[data-testid="threshold-slider"]');
    await s2.trigger('input');
    await s2.trigger('change');
    expect(again.emitted('update:targetFpr')).toBeUndefined();
    expect(again.emitted('preview')?.at(-1)).toEqual([null]);
  });
});

describe('ItemDetail marks', () => {
  const detail: ItemScoreDetail = {
    ...item(4, 3.2, false),
    path: '/data/horse/4.png',
    neighbors: [],
    mark: 'normal',
  };

  it('shows the mark and emits the one clicked (Clear only when marked)', async () => {
    const wrapper = mount(ItemDetail, { props: { item: detail } });
    expect(wrapper.get('[data-testid="item-mark"]').text()).toBe('normal (a false alarm)');
    expect(wrapper.get('[data-testid="detail-mark-normal"]').attributes('aria-pressed')).toBe('true');
    expect(wrapper.get('[data-testid="detail-mark-anomaly"]').attributes('aria-keyshortcuts')).toBe('A');
    await wrapper.get('[data-testid="detail-mark-anomaly"]').trigger('click');
    await wrapper.get('[data-testid="detail-mark-clear"]').trigger('click');
    expect(wrapper.emitted('mark')).toEqual([['anomaly'], [null]]);
    await setProps(wrapper, { item: { ...detail, mark: null } });
    expect(wrapper.get('[data-testid="detail-mark-clear"]').attributes('disabled')).toBeDefined();
  });
});

describe('FeedbackBar', () => {
  it('marks the selection, shows the counts and the keys, and retrains when there are marks', async () => {
    const wrapper = mount(FeedbackBar, {
      props: {
        selected: 3,
        runId: 7,
        own: { normal: 2, anomaly: 1 },
        // the engine's count over run 7's and its score run 8's lists (an image marked on both once)
        feedback: { normal: 2, anomaly: 4, fromRuns: [7, 8] },
        canRetrain: true,
      },
    });
    expect(wrapper.get('[data-testid="selection-count"]').text()).toBe('3 selected');
    expect(wrapper.get('[data-testid="mark-counts"]').text()).toMatch(
      /2 normal · 1 anomaly · a retrain uses 6, with 1 related list/,
    );
    expect(wrapper.text()).toMatch(/N normal \(false alarm\) · A anomaly \(confirmed\) · U\s+clears/);
    expect(wrapper.get('[data-testid="retrain"]').text()).toBe('Retrain with feedback (6)');
    await wrapper.get('[data-testid="mark-normal"]').trigger('click');
    await wrapper.get('[data-testid="mark-anomaly"]').trigger('click');
    await wrapper.get('[data-testid="mark-clear"]').trigger('click');
    await wrapper.get('[data-testid="retrain"]').trigger('click');
    expect(wrapper.emitted('mark')).toEqual([['normal'], ['anomaly'], [null]]);
    expect(wrapper.emitted('retrain')).toHaveLength(1);
    await setProps(wrapper, { selected: 0, canRetrain: false });
    expect(wrapper.get('[data-testid="mark-normal"]').attributes('disabled')).toBeDefined();
    expect(wrapper.get('[data-testid="retrain"]').attributes('disabled')).toBeDefined();
    // only this list's marks: no related lists; no detector (null): no count
    await setProps(wrapper, { feedback: { normal: 2, anomaly: 1, fromRuns: [7] } });
    expect(wrapper.get('[data-testid="mark-counts"]').text()).not.toMatch(/related/);
    expect(wrapper.get('[data-testid="retrain"]').text()).toBe('Retrain with feedback (3)');
    await setProps(wrapper, { feedback: null });
    expect(wrapper.get('[data-testid="retrain"]').text()).toBe('Retrain with feedback');
  });
});

describe('RetrainPanel', () => {
  const comparison: RetrainComparison = {
    fromRunId: 4,
    targetFpr: 0.1,
    normals: 1,
    anomalies: 1,
    anomalyCopies: 12,
    evaluated: 500,
    before: { threshold: 10, flagged: 80, auroc: 0.9, perGroup: { horse: 0.8 } },
    after: { threshold: 11, flagged: 95, auroc: 0.92, perGroup: { horse: 0.85 } },
    moved: [
      {
        itemId: 1,
        relPath: 'a.png',
        mark: 'anomaly',
        before: 5,
        after: 30,
        flaggedBefore: false,
        flaggedAfter: true,
      },
      {
        itemId: 2,
        relPath: 'b.png',
        mark: 'normal',
        before: 12,
        after: 13,
        flaggedBefore: true,
        flaggedAfter: true,
      },
    ],
  };

  it('shows before, after and the change side by side, and the images that crossed the threshold', async () => {
    const wrapper = mount(RetrainPanel, { props: { comparison, fromName: 'deer v1' } });
    const rows = wrapper.findAll('[data-testid="retrain-row"]');
    expect(rows.map((r) => r.findAll('th, td').map((c) => c.text()))).toEqual([
      ['Flagged at the same target FPR', '80', '95', '+15'],
      ['Threshold (score)', '10.00', '11.00', ''],
      ['AUROC', '90.0 %', '92.0 %', '+2.0 pt'],
      ['AUROC · horse', '80.0 %', '85.0 %', '+5.0 pt'],
    ]);
    const moved = wrapper.findAll('[data-testid="moved-tile"]');
    expect(moved.map((m) => m.attributes('data-item-id'))).toEqual(['1']);
    expect(moved[0].text()).toContain('5.00 → 30.00');
    expect(moved[0].attributes('aria-label')).toContain('not flagged → flagged');
    expect(wrapper.findAll('[data-testid="stayed-tile"]')).toHaveLength(1);
    expect(wrapper.text()).toContain('each repeated 12× in the contrast set');
    await wrapper.get('[data-testid="retrain-from"]').trigger('click');
    expect(wrapper.emitted('open')).toEqual([[4]]);
  });
});

const liveRun = (above: number | null): RunDetail =>
  ({
    id: 5,
    status: 'running',
    losses: [{ step: 100, inlierNll: 2, contrastNll: 3, contrastAboveEps: above }],
    live: {
      phase: 'train cf',
      done: 300,
      total: 1500,
      rate: 123.4,
      etaSeconds: 9.7,
      contrastAboveEps: above,
      updated: '2026-12-01T10:00:00Z',
    },
  }) as RunDetail;

describe('LiveRunPanel', () => {
  it('shows phase, steps, speed, ETA and the share of contrast above ε, and the loss curve', async () => {
    const wrapper = mount(LiveRunPanel, {
      props: { run: liveRun(0.42), cancellable: true },
      global: { stubs: { BaseChart: { template: '<div />' } } },
    });
    const root = wrapper.get('[data-testid="live-run"]');
    expect([
      root.attributes('data-phase'),
      root.attributes('data-done'),
      root.attributes('data-total'),
    ]).toEqual(['train cf', '300', '1500']);
    expect(wrapper.get('[data-testid="live-done"]').text()).toBe('300 / 1500 steps');
    expect(wrapper.get('[data-testid="live-rate"]').text()).toBe('123/s');
    expect(wrapper.get('[data-testid="live-eta"]').text()).toBe('9.7 s');
    expect(wrapper.get('[data-testid="live-above-eps"]').text()).toBe('42 %');
    expect(wrapper.get('[data-testid="loss-chart"]').text()).toContain('contrast above ε 42 %');
    await wrapper.get('[data-testid="live-cancel"]').trigger('click');
    expect(wrapper.emitted('cancel')).toHaveLength(1);
    // none above ε: the contrast term is off, and the panel says what that means
    await setProps(wrapper, { run: liveRun(0) });
    expect(wrapper.text()).toContain('CF trains like a plain flow');
    await setProps(wrapper, { run: { ...liveRun(null), live: null } });
    expect(wrapper.get('[data-testid="live-waiting"]').text()).toBe('Waiting for the first progress report…');
    expect(wrapper.find('[data-testid="live-above-eps"]').exists()).toBe(false);
  });
});

describe('DistributionChart', () => {
  const uniform = (lo: number, hi: number) =>
    Array.from({ length: 101 }, (_, p) => lo + ((hi - lo) * p) / 100);
  const distributions: ScoreDistribution[] = [
    { group: 'contrast: ship', anomaly: true, count: 300, percentiles: uniform(20, 40) },
    { group: 'inliers (held-out)', anomaly: false, count: 100, percentiles: uniform(0, 10) },
    { group: 'contrast: cat', anomaly: true, count: 100, percentiles: uniform(30, 3000) },
  ];

  it('draws inliers against all anomalies, lets groups be left out, and has the numbers in a table', async () => {
    const wrapper = mount(DistributionChart, {
      props: { distributions, threshold: 12.5 },
      global: { stubs: { BaseChart: { template: '<div />' } } },
    });
    const root = wrapper.get('[data-testid="distribution-chart"]');
    expect(root.attributes('data-series')).toBe('inliers (held-out)|anomalies (2 groups)');
    expect(root.attributes('data-threshold')).toBe('12.5');
    expect(wrapper.get('[data-testid="distribution-axis-note"]').text()).toMatch(
      /symmetric log of the score/,
    );
    const rows = wrapper.findAll('[data-testid="distribution-table"] tbody tr');
    expect(rows.map((r) => [r.attributes('data-group'), r.attributes('data-count')])).toEqual([
      ['inliers (held-out)', '100'],
      ['contrast: cat', '100'],
      ['contrast: ship', '300'],
    ]);
    expect(rows[0].get('td[data-q="50"]').text()).toBe('5');
    await wrapper
      .find('[data-group="contrast: cat"] input, input[data-group="contrast: cat"]')
      .setValue(false);
    expect(root.attributes('data-series')).toBe('inliers (held-out)|contrast: ship');
    await wrapper.get('[data-testid="distribution-split"]').setValue(true);
    expect(root.attributes('data-series')).toBe('inliers (held-out)|contrast: ship');
    await wrapper.find('input[data-group="contrast: cat"]').setValue(true);
    expect(root.attributes('data-series')).toBe('inliers (held-out)|contrast: cat|contrast: ship');
    await setProps(wrapper, { threshold: 20, estimated: true });
    expect(root.attributes('data-threshold')).toBe('20');
    expect(root.attributes('data-estimated')).toBe('true');
    expect(wrapper.text()).toContain('estimated from the held-out inliers');
  });
});

describe('PrototypesStrip and DecisionMetrics', () => {
  const info: PrototypesInfo = {
    runId: 5,
    temperature: 0.6,
    prototypes: [
      {
        logProb: 420.4,
        nearest: [
          { itemId: 11, relPath: 'deer/1.png', role: 'inlier', distance: 0.1 },
          { itemId: 12, relPath: 'cat/2.png', role: 'contrast', distance: 0.2 },
        ],
      },
      { logProb: 100, nearest: [{ itemId: 13, relPath: 'deer/3.png', role: 'inlier', distance: 0.1 }] },
    ],
    heldOutMedianLogProb: 300,
    nearestInlierShare: 0.75,
    chance: 0.184,
  };

  it('shows each sample’s nearest images with their role, and the share against chance', () => {
    const wrapper = mount(PrototypesStrip, { props: { info } });
    expect(wrapper.get('[data-testid="prototypes-note"]').text()).toMatch(
      /Samples of the model \(T = 0.6\): nearest image is an inlier for 75 % \(chance 18.4 %\)\.\s+1 of 2 samples/,
    );
    const n = wrapper.findAll('[data-testid="prototype-neighbor"]');
    expect(n.map((x) => [x.attributes('data-item-id'), x.attributes('data-role'), x.text()])).toEqual([
      ['11', 'inlier', 'inlier'],
      ['12', 'contrast', 'contrast'],
      ['13', 'inlier', 'inlier'],
    ]);
    const failed = mount(PrototypesStrip, {
      props: { info: null, error: { message: 'run 3: knn has no flow', hint: null, kind: 'user' } },
    });
    expect(failed.get('[data-testid="prototypes-error"]').text()).toBe('run 3: knn has no flow');
  });

  it('shows AUPR, FPR at 95 % TPR and the threshold’s precision, recall, F1 and FPR', () => {
    const wrapper = mount(DecisionMetrics, {
      props: {
        decision: {
          aupr: 0.8123,
          fprAt95Tpr: 0.31,
          atThreshold: { precision: 0.9, recall: 0.456, f1: 0.605, fpr: 0.05, flagged: 40 },
        },
      },
    });
    const text = (id: string) => wrapper.get(`[data-testid="${id}"]`).text();
    expect([text('decision-aupr'), text('decision-fpr95'), text('decision-precision')]).toEqual([
      '81.2 %',
      '31 %',
      '90 %',
    ]);
    expect([text('decision-recall'), text('decision-f1'), text('decision-fpr')]).toEqual([
      '45.6 %',
      '60.5 %',
      '5 %',
    ]);
    expect(wrapper.get('[data-testid="decision-precision"]').attributes('data-value')).toBe('0.9');
  });
});
