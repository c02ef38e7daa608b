// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest';
import type { MethodInfo, RunSummary } from '../../src/shared/ipc';
import { buildOvrMatrix } from '../../src/renderer/src/lib/compare';
import { toApiError } from '../../src/renderer/src/lib/errors';
import { formatAuroc, formatDuration, formatPercent, formatScore } from '../../src/renderer/src/lib/format';
import { fprToSlider, sliderToFpr } from '../../src/renderer/src/lib/fprScale';
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

  it('builds a CF request with defaults and ε auto', () => {
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
        steps: 400,
        eps: 'auto',
        hidden: 128,
        blocks: 4,
        seed: 0,
      },
    });
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
    if (!check.ok) expect(check.problems).toEqual(['Steps must be a whole number ≥ 1.']);
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
