// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { MethodInfo, RetrainComparison, RunSummary } from '../../src/shared/ipc';
import { buildOvrMatrix } from '../../src/renderer/src/lib/compare';
import { toApiError } from '../../src/renderer/src/lib/errors';
import { formatAuroc, formatDuration, formatPercent, formatScore } from '../../src/renderer/src/lib/format';
import { fprToSlider, sliderToFpr } from '../../src/renderer/src/lib/fprScale';
import { freshestLive } from '../../src/renderer/src/lib/liveRun';
import { comparisonRows, movedAcross, movedAsMarked } from '../../src/renderer/src/lib/retrain';
import {
  EMPTY_SELECTION,
  arrowTarget,
  markForKey,
  nextSelection,
  selectModeOf,
} from '../../src/renderer/src/lib/selection';
import { buildTrainRequest, defaultDraft, parseEps } from '../../src/renderer/src/lib/trainRequest';

const CF: MethodInfo = {
  id: 'cf',
  label: 'Contrastive flow',
  shortLabel: 'CF',
  usesContrast: true,
  flow: true,
  exportable: true,
  description: 'a contrastive flow',
};
const KNN: MethodInfo = {
  id: 'knn',
  label: 'KNN',
  shortLabel: 'KNN',
  usesContrast: false,
  flow: false,
  exportable: false,
  description: 'k-th nearest inlier',
};

describe('format', () => {
  it('formats AUROC, scores, percentages and durations legibly', () => {
    expect(formatAuroc(0.9183)).toBe('91.8 %');
    expect(formatAuroc(null)).toBe('—');
    expect(formatScore(12.3456)).toBe('12.35');
    expect(formatPercent(0.05)).toBe('5 %');
    expect(formatPercent(0.0012)).toBe('0.12 %');
    expect(formatDuration(185)).toBe('3 min 05 s');
    expect(formatDuration(4.25)).toBe('4.3 s');
  });
});

describe('toApiError', () => {
  it('takes the ApiError a rejected invoke carries', () => {
    const err = Object.assign(new Error('no images found'), {
      apiError: {
        message: 'no images found',
        hint: 'pick a folder with .png or .jpg files',
        kind: 'user' as const,
      },
    });
    expect(toApiError(err)).toEqual({
      message: 'no images found',
      hint: 'pick a folder with .png or .jpg files',
      kind: 'user',
    });
  });

  it('keeps only the reason of a plain Error, never a stack', () => {
    const err = new Error(
      "Error invoking remote method 'runs:get': Error: run 9 not found\n    at foo (x.js:1)",
    );
    expect(toApiError(err)).toEqual({ message: 'run 9 not found', hint: null, kind: 'internal' });
  });
});

describe('trainRequest', () => {
  it('parses ε as a number ≥ 0 or auto', () => {
    expect(parseEps('0')).toBe(0);
    expect(parseEps(' 0.5 ')).toBe(0.5);
    expect(parseEps('AUTO')).toBe('auto');
    expect(parseEps('-1')).toBeNull();
    expect(parseEps('abc')).toBeNull();
    // empty: left to the inlier-count rule
    expect(parseEps('')).toBeUndefined();
    expect(parseEps('  ')).toBeUndefined();
  });

  it('defaults the flow settings and ε to auto (the inlier-count rule)', () => {
    expect(defaultDraft()).toMatchObject({ steps: null, hidden: null, blocks: null, epsText: '' });
  });

  it('lists what is missing in an empty form', () => {
    const check = buildTrainRequest(defaultDraft(), { method: CF });
    expect(check.ok).toBe(false);
    if (!check.ok) {
      expect(check.problems).toContain('Choose the inlier images: drop a folder or pick a dataset.');
      expect(check.problems.some((p) => p.includes('needs contrast images'))).toBe(true);
      expect(check.problems).toContain('Choose a feature extractor.');
    }
  });

  it('builds a CF request with ε auto, leaving the unset flow settings to the rule', () => {
    const draft = {
      ...defaultDraft(),
      inlierDatasetId: 3,
      inlierLabels: ['cat'],
      contrast: { kind: 'dataset' as const, id: 5 },
      testDatasetId: 7,
      testInlierLabels: ['cat'],
      extractorId: 1,
      epsText: 'auto',
      name: '  cats  ',
    };
    const check = buildTrainRequest(draft, { method: CF });
    expect(check).toEqual({
      ok: true,
      request: {
        name: 'cats',
        method: 'cf',
        inliers: { datasetId: 3, labels: ['cat'] },
        contrast: { datasetId: 5, labels: null },
        test: { datasetId: 7, inlierLabels: ['cat'] },
        extractorId: 1,
        eps: 'auto',
        seed: 0,
      },
    });
  });

  const ready = {
    ...defaultDraft(),
    inlierDatasetId: 3,
    extractorId: 1,
    contrast: { kind: 'dataset' as const, id: 5 },
  };

  it('the default draft sends no steps, hidden, blocks nor ε: the engine sizes the flow', () => {
    const check = buildTrainRequest(ready, { method: CF });
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    for (const key of ['steps', 'hidden', 'blocks', 'eps']) expect(check.request).not.toHaveProperty(key);
    expect(check.request).toEqual({
      method: 'cf',
      inliers: { datasetId: 3, labels: null },
      contrast: { datasetId: 5, labels: null },
      test: null,
      extractorId: 1,
      seed: 0,
    });
  });

  it('sends the settings the user typed, each on its own', () => {
    const all = buildTrainRequest(
      { ...ready, steps: 50, hidden: 64, blocks: 2, epsText: ' 0.5 ' },
      { method: CF },
    );
    expect(all.ok && all.request).toMatchObject({ steps: 50, hidden: 64, blocks: 2, eps: 0.5 });
    const stepsOnly = buildTrainRequest({ ...ready, steps: 1000 }, { method: CF });
    expect(stepsOnly.ok).toBe(true);
    if (!stepsOnly.ok) return;
    expect(stepsOnly.request.steps).toBe(1000);
    for (const key of ['hidden', 'blocks', 'eps']) expect(stepsOnly.request).not.toHaveProperty(key);
    const epsZero = buildTrainRequest({ ...ready, epsText: '0' }, { method: CF });
    expect(epsZero.ok && epsZero.request.eps).toBe(0);
    // a flow without contrast takes the flow settings, not ε
    const flow = buildTrainRequest(
      { ...ready, method: 'flow', hidden: 32, epsText: '1' },
      { method: { ...CF, id: 'flow', label: 'Flow', usesContrast: false } },
    );
    expect(flow.ok && flow.request).toMatchObject({ hidden: 32, contrast: null });
    expect(flow.ok && flow.request).not.toHaveProperty('eps');
    // methods without a flow take none of them
    const knn = buildTrainRequest({ ...ready, method: 'knn', steps: 10, hidden: 8 }, { method: KNN });
    expect(knn.ok).toBe(true);
    if (knn.ok)
      for (const key of ['steps', 'hidden', 'blocks', 'eps']) expect(knn.request).not.toHaveProperty(key);
  });

  it('reports invalid typed values, one problem each', () => {
    const check = buildTrainRequest(
      { ...ready, steps: 0, hidden: Number.NaN, blocks: 1.5, epsText: '-1' },
      { method: CF },
    );
    expect(check).toEqual({
      ok: false,
      problems: [
        'Steps must be a whole number ≥ 1 (or empty: auto).',
        'Hidden units must be a whole number ≥ 4 (or empty: auto).',
        'Blocks must be a whole number ≥ 1 (or empty: auto).',
        'ε must be a number ≥ 0, "auto", or empty (chosen from the inliers).',
      ],
    });
    // hidden units below the IPC schema's minimum (4) are refused here, not by the main process
    expect(buildTrainRequest({ ...ready, hidden: 3 }, { method: CF })).toEqual({
      ok: false,
      problems: ['Hidden units must be a whole number ≥ 4 (or empty: auto).'],
    });
    expect(buildTrainRequest({ ...ready, hidden: 4 }, { method: CF }).ok).toBe(true);
    // a method without a flow ignores what is left in the disabled inputs
    expect(buildTrainRequest({ ...ready, method: 'knn', steps: 0 }, { method: KNN }).ok).toBe(true);
  });

  it('drops contrast for methods without it', () => {
    const base = {
      ...defaultDraft(),
      inlierDatasetId: 3,
      extractorId: 1,
      contrast: { kind: 'dataset' as const, id: 5 },
    };
    const knn = buildTrainRequest({ ...base, method: 'knn' }, { method: KNN });
    expect(knn.ok && knn.request.contrast).toBeNull();
    const cf = buildTrainRequest(base, { method: CF });
    expect(cf.ok && cf.request.contrast).toEqual({ datasetId: 5, labels: null });
    const noExtractor = buildTrainRequest({ ...base, extractorId: null }, { method: CF });
    expect(noExtractor).toEqual({ ok: false, problems: ['Choose a feature extractor.'] });
  });

  it('rejects non-integer steps', () => {
    const draft = {
      ...defaultDraft(),
      inlierDatasetId: 3,
      extractorId: 1,
      contrast: { kind: 'dataset' as const, id: 5 },
      steps: 2.5,
    };
    const check = buildTrainRequest(draft, { method: CF });
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.problems).toEqual(['Steps must be a whole number ≥ 1 (or empty: auto).']);
  });
});

describe('fprScale', () => {
  it('maps the slider ends to 0.1 % and 50 % and round-trips', () => {
    expect(sliderToFpr(0)).toBeCloseTo(0.001, 10);
    expect(sliderToFpr(200)).toBeCloseTo(0.5, 10);
    expect(sliderToFpr(fprToSlider(0.05))).toBeCloseTo(0.05, 2);
  });
});

function run(id: number, inliers: string, perGroup: Record<string, number>): RunSummary {
  return {
    id,
    name: null,
    method: 'cf',
    methodLabel: 'CF',
    status: 'done',
    kind: 'train',
    parentRunId: null,
    detectorRunId: id,
    meanAuroc: null,
    inliers,
    contrast: null,
    test: null,
    eps: 0,
    auroc: null,
    aupr: null,
    trainSeconds: 1,
    backend: 'wasm',
    steps: 400,
    startedAt: null,
    finishedAt: null,
    error: null,
    perGroup,
  };
}

describe('buildOvrMatrix', () => {
  it('builds rows per inlier selection and columns per group, blank on the diagonal', () => {
    const m = buildOvrMatrix([
      run(1, 'cifar: cat', { dog: 0.6, horse: 0.8 }),
      run(2, 'cifar: dog', { cat: 0.55, horse: 0.9 }),
    ]);
    expect(m?.groups).toEqual(['cat', 'dog', 'horse']);
    expect(m?.rows.map((r) => r.label)).toEqual(['cifar: cat', 'cifar: dog']);
    expect(m?.rows[0].values).toEqual([null, 0.6, 0.8]);
    expect(m?.rows[1].values).toEqual([0.55, null, 0.9]);
    expect(m?.rows[0].mean).toBeCloseTo(0.7, 10);
  });

  it('is null when no group is shared by two runs', () => {
    expect(buildOvrMatrix([run(1, 'a', { x: 0.5 }), run(2, 'b', { y: 0.7 })])).toBeNull();
    expect(buildOvrMatrix([run(1, 'a', { x: 0.5 })])).toBeNull();
  });
});

describe('gallery selection', () => {
  // positions 0..9 hold items 100..109; position 7 is not loaded
  const idAt = (i: number) => (i >= 0 && i < 10 && i !== 7 ? 100 + i : undefined);

  it('selects one on a click, a range on Shift-click, toggles on Ctrl/Cmd-click', () => {
    let sel = nextSelection(EMPTY_SELECTION, 2, 'single', idAt);
    expect(sel).toEqual({ ids: [102], anchor: 2, focus: 2 });
    sel = nextSelection(sel, 5, 'range', idAt);
    expect(sel).toEqual({ ids: [102, 103, 104, 105], anchor: 2, focus: 5 });
    // a range backwards from the same anchor replaces the previous one
    sel = nextSelection(sel, 0, 'range', idAt);
    expect(sel).toEqual({ ids: [100, 101, 102], anchor: 2, focus: 0 });
    sel = nextSelection(sel, 9, 'toggle', idAt);
    expect(sel.ids).toEqual([100, 101, 102, 109]);
    sel = nextSelection(sel, 1, 'toggle', idAt);
    expect(sel).toEqual({ ids: [100, 102, 109], anchor: 1, focus: 1 });
    // a range over a position not loaded leaves it out; an unloaded click changes nothing
    expect(nextSelection(sel, 8, 'range', idAt).ids).toEqual([101, 102, 103, 104, 105, 106, 108]);
    expect(nextSelection(sel, 7, 'single', idAt)).toBe(sel);
    // Shift-click without an anchor: a plain click
    expect(nextSelection(EMPTY_SELECTION, 4, 'range', idAt)).toEqual({ ids: [104], anchor: 4, focus: 4 });
  });

  it('reads the mode from the modifier keys, moves with the arrow keys, and knows the mark keys', () => {
    expect(selectModeOf({ shiftKey: true, ctrlKey: true, metaKey: false })).toBe('range');
    expect(selectModeOf({ shiftKey: false, ctrlKey: false, metaKey: true })).toBe('toggle');
    expect(selectModeOf({ shiftKey: false, ctrlKey: false, metaKey: false })).toBe('single');
    // 4 columns, 10 items
    expect(arrowTarget('ArrowRight', 3, 4, 10)).toBe(4);
    expect(arrowTarget('ArrowDown', 3, 4, 10)).toBe(7);
    expect(arrowTarget('ArrowDown', 7, 4, 10)).toBeNull();
    expect(arrowTarget('ArrowLeft', 0, 4, 10)).toBeNull();
    expect(arrowTarget('End', 3, 4, 10)).toBe(9);
    expect(arrowTarget('Home', 3, 4, 10)).toBe(0);
    expect(arrowTarget('x', 3, 4, 10)).toBeNull();
    expect([markForKey('n'), markForKey('A'), markForKey('u'), markForKey('q')]).toEqual([
      'normal',
      'anomaly',
      null,
      undefined,
    ]);
  });
});

describe('retrain comparison', () => {
  const c: RetrainComparison = {
    fromRunId: 4,
    targetFpr: 0.1,
    normals: 1,
    anomalies: 2,
    anomalyCopies: 12,
    evaluated: 500,
    before: { threshold: 10, flagged: 80, auroc: 0.9, perGroup: { horse: 0.8, dog: null } },
    after: { threshold: 11, flagged: 95, auroc: 0.9234, perGroup: { horse: 0.79, dog: 0.7, cat: 0.6 } },
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
        after: 9,
        flaggedBefore: true,
        flaggedAfter: false,
      },
      {
        itemId: 3,
        relPath: 'c.png',
        mark: 'anomaly',
        before: 20,
        after: 21,
        flaggedBefore: true,
        flaggedAfter: true,
      },
      {
        itemId: 4,
        relPath: 'd.png',
        mark: 'normal',
        before: 8,
        after: 12,
        flaggedBefore: false,
        flaggedAfter: true,
      },
    ],
  };

  it('has before, after and the change for the flagged count, AUROC and every group', () => {
    const rows = comparisonRows(c);
    expect(rows.map((r) => [r.key, r.beforeText, r.afterText, r.changeText, r.direction])).toEqual([
      ['flagged', '80', '95', '+15', null],
      ['threshold', '10.00', '11.00', '', null],
      ['auroc', '90.0 %', '92.3 %', '+2.3 pt', 1],
      ['group:cat', '—', '60.0 %', '—', null],
      ['group:dog', '—', '70.0 %', '—', null],
      ['group:horse', '80.0 %', '79.0 %', '−1.0 pt', -1],
    ]);
    expect(rows[2]).toMatchObject({ before: 0.9, after: 0.9234 });
  });

  it('lists the marked images that crossed the threshold, largest move first, and which way was asked for', () => {
    const { crossed, stayed } = movedAcross(c);
    expect(crossed.map((m) => m.itemId)).toEqual([1, 4, 2]);
    expect(stayed.map((m) => m.itemId)).toEqual([3]);
    expect(crossed.map(movedAsMarked)).toEqual([true, false, true]);
  });
});

describe('freshestLive', () => {
  const polled = {
    live: {
      phase: 'train cf',
      done: 140,
      total: 1000,
      rate: 100,
      etaSeconds: 8.6,
      contrastAboveEps: 0.3,
      updated: '2026-12-01T10:00:00Z',
    },
    losses: [{ step: 100, inlierNll: 2, contrastNll: 3 }],
  };
  const now = () => '2026-12-01T10:00:01Z';

  it('shows this window’s job events when they are further along than the poll', () => {
    const job = {
      progress: {
        phase: 'train cf',
        done: 260,
        total: 1000,
        rate: 117,
        etaSeconds: 6.3,
        contrastAboveEps: 0.25,
      },
      losses: [
        { step: 100, inlierNll: 2, contrastNll: 3 },
        { step: 200, inlierNll: 1.8, contrastNll: 3.4 },
      ],
    };
    const shown = freshestLive(polled, job, now);
    expect(shown.live).toEqual({
      phase: 'train cf',
      done: 260,
      total: 1000,
      rate: 117,
      etaSeconds: 6.3,
      contrastAboveEps: 0.25,
      updated: '2026-12-01T10:00:01Z',
    });
    expect(shown.losses).toBe(job.losses);
  });

  it('keeps the poll without a job, or when the job is behind', () => {
    expect(freshestLive(polled, null, now)).toEqual(polled);
    const behind = {
      progress: { phase: 'train cf', done: 100, total: 1000, rate: 90, etaSeconds: 10 },
      losses: [],
    };
    expect(freshestLive(polled, behind, now)).toEqual(polled);
    // a new phase in the job (e.g. from extraction on to training) is newer than the poll
    const next = { progress: { phase: 'evaluate', done: 1, total: 2, rate: 1, etaSeconds: 1 }, losses: [] };
    expect(freshestLive(polled, next, now).live?.phase).toBe('evaluate');
  });
});
