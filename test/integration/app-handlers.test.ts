/**
 * The desktop app's main-process side (src/main/ipc/handlers.ts) through the same API object the
 * renderer uses, on real CIFAR-10 JPEGs, the real MoCo model and a real SQLite workspace:
 * input validation and path grants, the scan job, extractor import, a training job with live
 * progress, what the run view shows (histograms, ROC, Fig. 5, ranked gallery) checked against
 * the engine's own scores, the threshold rule, nearest neighbours, scoring a new folder,
 * exports, thumbnails that refuse to leave their dataset, and cancellation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTrainBackend } from '../../src/main/engine/backend/trainBackend';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { auroc } from '../../src/main/engine/eval/auroc';
import { decodeDetector } from '../../src/main/engine/model/cfdet';
import { runDetector } from '../../src/main/engine/studio';
import { Workspace } from '../../src/main/engine/store';
import { thresholdFor } from '../../src/main/engine/eval/threshold';
import type { ApiError, DatasetDetail, ExtractorInfo, JobResult, RunDetail } from '../../src/shared/ipc';
import { cifarDir, cifarMissing, mocoModel } from '../helpers/cifarWorkspace';
import { createLocalApi, type LocalApi } from '../helpers/localApi';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-app-'));
const wsFile = path.join(dir, 'ws.cfstudio');

function copyImages(from: string, to: string, n: number): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from).sort().slice(0, n))
    fs.copyFileSync(path.join(from, f), path.join(to, f));
}

async function rejection(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    return (e as { apiError: ApiError }).apiError;
  }
  throw new Error('expected the call to fail');
}

describe.skipIf(cifarMissing)('the app’s main-process handlers on CIFAR-10 + MoCo', () => {
  let local: LocalApi;
  const inlierDir = path.join(dir, 'deer');
  const contrastDir = path.join(dir, 'contrast');
  const newDir = path.join(dir, 'new');
  let inliers: DatasetDetail;
  let contrast: DatasetDetail;
  let extractor: ExtractorInfo;
  let runId = 0;
  let detail: RunDetail;

  beforeAll(async () => {
    copyImages(path.join(cifarDir, 'train', 'deer'), inlierDir, 150);
    fs.writeFileSync(path.join(inlierDir, 'broken.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]));
    for (const c of ['cat', 'ship'])
      copyImages(path.join(cifarDir, 'train', c), path.join(contrastDir, c), 100);
    copyImages(path.join(cifarDir, 'test', 'horse'), path.join(newDir, 'horse'), 40);
    copyImages(path.join(cifarDir, 'test', 'deer'), path.join(newDir, 'deer'), 40);
    local = await createLocalApi({ workspace: wsFile });
  });
  afterAll(async () => {
    await local?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const scan = async (folder: string): Promise<DatasetDetail> => {
    local.queueDialogAnswer(folder);
    const picked = await local.api.invoke('dialog:pickFolder', { title: 'folder' });
    expect(picked).toBe(folder);
    const { jobId } = await local.api.invoke('datasets:add', { path: picked! });
    const r = (await local.waitForJob(jobId)) as Extract<JobResult, { kind: 'scan' }>;
    return r.dataset;
  };

  it('refuses unknown channels, malformed arguments and paths the user did not pick', async () => {
    const api = local.api as unknown as { invoke(c: string, ...a: unknown[]): Promise<unknown> };
    expect((await rejection(api.invoke('fs:read', '/etc/passwd'))).message).toMatch(
      /unknown IPC channel "fs:read"/,
    );
    const bad = await rejection(api.invoke('runs:get', { id: 'DROP TABLE runs' }));
    expect(bad.kind).toBe('user');
    expect(bad.message).toMatch(/runs:get: invalid arguments \(0\.id: /);
    expect((await rejection(api.invoke('runs:get', { id: 1, extra: true }))).message).toMatch(
      /invalid arguments/,
    );
    const notPicked = await rejection(local.api.invoke('datasets:add', { path: inlierDir }));
    expect(notPicked).toMatchObject({ kind: 'user' });
    expect(notPicked.message).toContain('only open folders and files you picked or dropped');
    expect(notPicked.hint).toMatch(/Choose folder/);
    const write = await rejection(
      local.api.invoke('runs:export', { runId: 1, format: 'csv', path: path.join(dir, 'x.csv') }),
    );
    expect(write.message).toMatch(/may only write where you chose to save/);
  });

  it('scans a picked folder as a job: counts, labels, skipped files with reasons', async () => {
    inliers = await scan(inlierDir);
    expect(inliers).toMatchObject({ name: 'deer', ok: 150, skipped: 1, labels: [{ label: '', count: 150 }] });
    expect(inliers.skippedFiles).toEqual([
      { relPath: 'broken.jpg', reason: expect.stringMatching(/truncated|corrupt|unreadable|premature/i) },
    ]);
    const progress = local.events.filter((e) => e.type === 'progress' && e.kind === 'scan');
    expect(progress.length).toBeGreaterThan(0);
    contrast = await scan(contrastDir);
    expect(contrast.labels).toEqual([
      { label: 'cat', count: 100 },
      { label: 'ship', count: 100 },
    ]);
    const page = await local.api.invoke('datasets:items', { id: contrast.id, offset: 190, limit: 50 });
    expect(page.total).toBe(200);
    expect(page.items).toHaveLength(10);
    expect((await local.api.invoke('datasets:list')).map((d) => d.name)).toEqual(
      expect.arrayContaining(['deer', 'contrast']),
    );
  });

  it('imports the MoCo model the user picked and shows its input spec', async () => {
    local.queueDialogAnswer(mocoModel);
    const file = await local.api.invoke('dialog:pickFile', { title: 'model', extensions: ['onnx'] });
    extractor = await local.api.invoke('extractors:import', { path: file!, name: 'moco' });
    expect(extractor).toMatchObject({
      name: 'moco',
      available: true,
      spec: { width: 32, height: 32, l2Normalize: true },
    });
    expect(await local.api.invoke('extractors:list')).toHaveLength(1);
  });

  it('trains CF as a job with extraction and training progress, live losses, and records the run', async () => {
    const { jobId } = await local.api.invoke('runs:train', {
      method: 'cf',
      inliers: { datasetId: inliers.id, labels: null },
      contrast: { datasetId: contrast.id, labels: null },
      extractorId: extractor.id,
      steps: 80,
      eps: 0,
      hidden: 32,
      blocks: 2,
      seed: 1,
    });
    const r = await local.waitForJob(jobId);
    expect(r.kind).toBe('train');
    runId = (r as { runId: number }).runId;
    const mine = local.events.filter((e) => e.jobId === jobId);
    const phases = new Set(
      mine.flatMap((e) => (e.type === 'progress' ? [e.progress.phase.split(' ')[0]] : [])),
    );
    expect(phases).toEqual(new Set(['extract', 'train']));
    const losses = mine.flatMap((e) => (e.type === 'loss' ? [e.point] : []));
    // live points are throttled (~10/s from the worker), so how many arrive depends on speed;
    // they come in step order, finite, and the run keeps the whole curve
    expect(losses.length).toBeGreaterThanOrEqual(1);
    const steps = losses.map((l) => l.step);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(steps.at(-1)).toBeLessThanOrEqual(80);
    expect(losses.every((l) => Number.isFinite(l.inlierNll) && Number.isFinite(l.contrastNll!))).toBe(true);
    const stored = (await local.api.invoke('runs:get', { id: runId })).losses;
    expect(stored.at(-1)!.step).toBe(80);
    expect(stored.length).toBeGreaterThanOrEqual(8);
    expect(mine.at(-1)!.type).toBe('done');
  }, 300_000);

  it('run view: histograms, ROC and Fig. 5 from the held-out inliers and the contrast images', async () => {
    detail = await local.api.invoke('runs:get', { id: runId });
    expect(detail).toMatchObject({ status: 'done', method: 'cf', kind: 'train', steps: 80 });
    // 10 % of the 150 inliers held out; contrast images are all non-deer
    expect(detail.scored).toBe(15 + 200);
    const hist = detail.histograms!;
    expect(hist.series.map((s) => [s.group, s.anomaly])).toEqual([
      ['inliers (held-out)', false],
      ['contrast: cat', true],
      ['contrast: ship', true],
    ]);
    expect(hist.series.map((s) => s.counts.reduce((a, b) => a + b, 0))).toEqual([15, 100, 100]);
    expect(hist.edges).toHaveLength(hist.series[0].counts.length + 1);
    expect(detail.auroc!).toBeGreaterThan(0.8);
    expect(detail.roc!.auroc).toBe(detail.auroc);
    expect(detail.roc!.fpr[0]).toBe(0);
    expect(detail.roc!.tpr.at(-1)).toBe(1);
    expect(detail.aurocNote).toMatch(/optimistic/);
    expect(Object.keys(detail.perGroup).sort()).toEqual(['cat', 'ship']);
    expect(detail.picks.map((p) => p.group)).toEqual([
      ...Array(3).fill('lowest-inlier'),
      ...Array(3).fill('hardest-anomaly'),
      ...Array(3).fill('strangest-inlier'),
    ]);
    expect(detail.losses.length).toBeGreaterThan(5);
    // the run records the training backend the engine chose (ort-cpu unless ONNX Runtime fails here)
    expect(detail.backend).toBe((await describeTrainBackend()).name);
  });

  it('the ranked gallery equals the engine’s own scores of the same images, most anomalous first', async () => {
    const page1 = await local.api.invoke('runs:scores', { id: runId, offset: 0, limit: 100, group: null });
    const page2 = await local.api.invoke('runs:scores', { id: runId, offset: 100, limit: 200, group: null });
    const all = [...page1.items, ...page2.items];
    expect(page1.total).toBe(215);
    expect(all.map((i) => i.rank)).toEqual(Array.from({ length: 215 }, (_, i) => i + 1));
    for (let i = 1; i < all.length; i++) expect(all[i - 1].score).toBeGreaterThanOrEqual(all[i].score);
    // the engine, independently: the stored detector on the stored features of those items
    const ws = Workspace.open(wsFile, { readonly: true });
    try {
      const { detector } = runDetector(ws, runId);
      const items = ws.items.byIds(all.map((i) => i.itemId));
      const byId = new Map(items.map((i) => [i.id, i]));
      const { dim, matrix } = ws.features.load(
        extractor.id,
        all.map((i) => byId.get(i.itemId)!.contentHash!),
      );
      const { score } = await scoreDetector(detector, { rows: all.length, cols: dim, data: matrix }, 'test');
      all.forEach((it, i) => expect(it.score).toBeCloseTo(score[i], 4));
    } finally {
      ws.close();
    }
    const cats = await local.api.invoke('runs:scores', {
      id: runId,
      offset: 0,
      limit: 500,
      group: 'contrast: cat',
    });
    expect(cats.total).toBe(100);
    expect(cats.items.every((i) => i.group === 'contrast: cat' && i.anomaly)).toBe(true);
  });

  it('the threshold for a target FPR: exactly ⌊α·n⌋ held-out inliers flagged; stored with the run', async () => {
    const t = await local.api.invoke('runs:setThreshold', { runId, targetFpr: 0.2 });
    expect(t.heldOutCount).toBe(15);
    expect(t.heldOutFpr).toBeCloseTo(3 / 15, 10);
    const held = await local.api.invoke('runs:scores', {
      id: runId,
      offset: 0,
      limit: 500,
      group: 'inliers (held-out)',
    });
    expect(held.items.filter((i) => i.flagged)).toHaveLength(3);
    expect(t.threshold).toBe(
      thresholdFor(
        held.items.map((i) => i.score),
        0.2,
      ),
    );
    const all = await local.api.invoke('runs:scores', { id: runId, offset: 0, limit: 500, group: null });
    expect(all.items.filter((i) => i.flagged)).toHaveLength(t.flagged);
    expect(all.items.every((i) => i.flagged === i.score >= t.threshold)).toBe(true);
    // survives a restart of the app
    await local.close();
    local = await createLocalApi({ workspace: wsFile });
    const again = await local.api.invoke('runs:get', { id: runId });
    expect(again.threshold).toMatchObject({ threshold: t.threshold, targetFpr: 0.2 });
    // thresholdFor itself: 0 % → nothing flagged, 100 % → all flagged
    expect([5, 4, 3].filter((s) => s >= thresholdFor([5, 4, 3], 0))).toHaveLength(0);
    expect([5, 4, 3].filter((s) => s >= thresholdFor([5, 4, 3], 1))).toHaveLength(3);
  });

  it('an image’s detail: path, score, rank, and its nearest training inliers (never held-out ones)', async () => {
    const top = (await local.api.invoke('runs:scores', { id: runId, offset: 0, limit: 1, group: null }))
      .items[0];
    const d = await local.api.invoke('runs:item', { runId, itemId: top.itemId, neighbors: 6 });
    expect(d).toMatchObject({ itemId: top.itemId, rank: 1, score: top.score });
    const root = (await local.api.invoke('datasets:get', { id: top.datasetId })).root;
    expect(d.path).toBe(path.join(root, top.relPath));
    expect(fs.statSync(d.path).size).toBeGreaterThan(0);
    expect(d.neighbors).toHaveLength(6);
    const held = new Set((detail.metrics!.evaluation as { heldOutItemIds: number[] }).heldOutItemIds);
    const ws = Workspace.open(wsFile, { readonly: true });
    try {
      for (const n of d.neighbors) {
        expect(held.has(n.itemId)).toBe(false);
        expect(ws.items.get(n.itemId)!.datasetId).toBe(inliers.id);
      }
    } finally {
      ws.close();
    }
    const dist = d.neighbors.map((n) => n.distance);
    expect([...dist].sort((a, b) => a - b)).toEqual(dist);
  });

  it('scores a new folder with the detector into a ranked, flagged list; exports CSV, .cfdet and ONNX', async () => {
    const scanned = await scan(newDir);
    const { jobId } = await local.api.invoke('runs:score', { runId, datasetId: scanned.id });
    const r = (await local.waitForJob(jobId)) as { kind: 'score'; runId: number };
    const child = await local.api.invoke('runs:get', { id: r.runId });
    expect(child).toMatchObject({ kind: 'score', parentRunId: runId, scored: 80, auroc: null });
    const list = await local.api.invoke('runs:scores', { id: r.runId, offset: 0, limit: 100, group: null });
    const parentT = (await local.api.invoke('runs:get', { id: runId })).threshold!;
    expect(list.items.every((i) => i.flagged === i.score >= parentT.threshold)).toBe(true);
    // horses should rank above deer on average
    const meanRank = (label: string) => {
      const r = list.items.filter((i) => i.label === label).map((i) => i.rank);
      return r.reduce((a, b) => a + b, 0) / r.length;
    };
    expect(meanRank('horse')).toBeLessThan(meanRank('deer'));

    const exportTo = async (format: 'csv' | 'cfdet' | 'onnx', name: string, id: number) => {
      local.queueDialogAnswer(path.join(dir, name));
      const p = await local.api.invoke('dialog:pickSavePath', { title: 'save', defaultName: name });
      const job = await local.api.invoke('runs:export', { runId: id, format, path: p! });
      return (await local.waitForJob(job.jobId)) as { kind: 'export'; path: string; bytes: number };
    };
    const csv = await exportTo('csv', 'ranked.csv', r.runId);
    const lines = fs.readFileSync(csv.path, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('rank,score,flagged,group,path,label');
    expect(lines).toHaveLength(81);
    expect(lines[1].split(',')[0]).toBe('1');
    expect(Number(lines[1].split(',')[1])).toBeCloseTo(list.items[0].score, 5);
    const cfdet = await exportTo('cfdet', 'det.cfdet', runId);
    const ws = Workspace.open(wsFile, { readonly: true });
    try {
      // the run's detector, carrying its decision: the threshold at 20 % FPR and the held-out scores
      const exported = decodeDetector(fs.readFileSync(cfdet.path), 'det.cfdet');
      const stored = runDetector(ws, runId).detector;
      expect(exported.flows.map((f) => f.params)).toEqual(stored.flows.map((f) => f.params));
      expect(exported.threshold).toEqual({
        value: parentT.threshold,
        targetFpr: 0.2,
        heldOutCount: parentT.heldOutCount,
      });
      expect(exported.calibration!.heldOutScores).toHaveLength(parentT.heldOutCount);
    } finally {
      ws.close();
    }
    const onnx = await exportTo('onnx', 'det.onnx', runId);
    const model = onnxProto.onnx.ModelProto.decode(fs.readFileSync(onnx.path));
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['cfstudio.threshold']).toBe(`${parentT.threshold} @ FPR 0.2`);
  }, 300_000);

  it('thumbnails: JPEG of a dataset image; refused for files that resolve outside the dataset', async () => {
    const first = (await local.api.invoke('datasets:items', { id: inliers.id, offset: 0, limit: 1 }))
      .items[0];
    const jpeg = await local.handlers.thumbnail(first.id, 96);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    // a symlink inside the folder pointing at an image outside it
    const outside = path.join(dir, 'outside.jpg');
    fs.copyFileSync(
      path.join(cifarDir, 'test', 'cat', fs.readdirSync(path.join(cifarDir, 'test', 'cat'))[0]),
      outside,
    );
    fs.symlinkSync(outside, path.join(inlierDir, 'escape.jpg'));
    const rescanned = await scan(inlierDir);
    const items = (await local.api.invoke('datasets:items', { id: rescanned.id, offset: 0, limit: 1000 }))
      .items;
    const escape = items.find((i) => i.relPath === 'escape.jpg');
    if (escape)
      await expect(local.handlers.thumbnail(escape.id, 96)).rejects.toThrow(/outside its dataset folder/);
    else expect(rescanned.skippedFiles.map((s) => s.relPath)).toContain('escape.jpg');
    await expect(local.handlers.thumbnail(999_999, 96)).rejects.toThrow(/not in the workspace/);
  });

  it('with a labelled test set: AUROC over held-out inliers + the test set; its inlier label is no anomaly', async () => {
    const testSet = (await local.api.invoke('datasets:list')).find((d) => d.name === 'new')!;
    const { jobId } = await local.api.invoke('runs:train', {
      method: 'cf',
      inliers: { datasetId: inliers.id, labels: null },
      contrast: { datasetId: contrast.id, labels: null },
      test: { datasetId: testSet.id, inlierLabels: ['deer'] },
      extractorId: extractor.id,
      steps: 60,
      eps: 0,
      hidden: 32,
      blocks: 2,
      seed: 4,
    });
    const { runId: id } = (await local.waitForJob(jobId)) as { kind: 'train'; runId: number };
    const d = await local.api.invoke('runs:get', { id });
    // 10 % of the (now 151) inliers held out, plus the 80 test images; the contrast images are not scored
    expect(d.scored).toBe(15 + 80);
    expect(d.histograms!.series.map((s) => [s.group, s.anomaly])).toEqual([
      ['inliers (held-out)', false],
      ['test: deer (inlier)', false],
      ['test: horse', true],
    ]);
    expect(d.aurocNote).toMatch(/test set/);
    expect(Object.keys(d.perGroup)).toEqual(['horse']);
    const all = (await local.api.invoke('runs:scores', { id, offset: 0, limit: 500, group: null })).items;
    expect(d.auroc).toBeCloseTo(
      auroc(
        all.map((i) => i.score),
        all.map((i) => i.anomaly),
      ),
      10,
    );
    expect(d.auroc!).toBeGreaterThan(0.6);
  }, 300_000);

  it('cancels a long training: a "cancelled" event, the run recorded as cancelled', async () => {
    const { jobId } = await local.api.invoke('runs:train', {
      method: 'flow',
      inliers: { datasetId: inliers.id, labels: null },
      contrast: null,
      extractorId: extractor.id,
      steps: 200_000,
      eps: 0,
      hidden: 32,
      blocks: 2,
      seed: 2,
    });
    await new Promise<void>((resolve) => {
      const off = local.api.onJobEvent((e) => {
        if (
          e.jobId === jobId &&
          e.type === 'progress' &&
          e.progress.phase.startsWith('train') &&
          e.progress.done >= 20
        ) {
          off();
          resolve();
        }
      });
    });
    await local.api.invoke('jobs:cancel', { jobId });
    const err = await local.waitForJob(jobId).then(
      () => null,
      (e: { apiError: ApiError }) => e.apiError,
    );
    expect(err?.kind).toBe('cancelled');
    const runs = await local.api.invoke('runs:list');
    expect(runs[0]).toMatchObject({ method: 'flow', status: 'cancelled' });
  }, 300_000);
});
