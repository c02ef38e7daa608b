// @vitest-environment node
/**
 * (Node, not happy-dom: this file runs the real main-process engine in the test process, and
 * happy-dom's browser globals make TensorFlow.js think it is in a browser and fetch its files
 * from http://localhost:3000. The stores need no DOM.)
 *
 * The renderer's stores against the real main-process handlers and a real SQLite workspace
 * (test/helpers/localApi.ts): scan two small folders, import a tiny .onnx extractor, train a short
 * CF run through the jobs store, then page, threshold, open an item and export from the results
 * store; mark images, retrain with the marks and sample the detector's prototypes. Uses a few shared
 * CIFAR-10 JPEGs; skipped when they are not there.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarDir, haveCifar } from '../fixtures/badImageFolder';
import { writeTinyImageOnnx } from '../fixtures/onnxModels';
import { createLocalApi, type LocalApi } from '../helpers/localApi';
import { useFolderScan } from '../../src/renderer/src/composables/useFolderScan';
import type { DatasetDetail } from '../../src/shared/ipc';
import { setApi } from '../../src/renderer/src/lib/api';
import { buildTrainRequest, defaultDraft } from '../../src/renderer/src/lib/trainRequest';
import { useAppStore } from '../../src/renderer/src/stores/app';
import { useDatasetsStore } from '../../src/renderer/src/stores/datasets';
import { useExtractorsStore } from '../../src/renderer/src/stores/extractors';
import { useFeedbackStore } from '../../src/renderer/src/stores/feedback';
import { usePrototypesStore } from '../../src/renderer/src/stores/prototypes';
import { useJobsStore } from '../../src/renderer/src/stores/jobs';
import { useResultsStore } from '../../src/renderer/src/stores/results';
import { useRunsStore } from '../../src/renderer/src/stores/runs';
import { useUiStore } from '../../src/renderer/src/stores/ui';

function copyImages(from: string, to: string, n: number): void {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs
    .readdirSync(from)
    .filter((x) => x.endsWith('.jpg'))
    .sort()
    .slice(0, n))
    fs.copyFileSync(path.join(from, f), path.join(to, f));
}

describe.skipIf(!haveCifar)('stores over the real handlers', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-renderer-'));
  const inliersDir = path.join(dir, 'deer');
  const contrastDir = path.join(dir, 'other');
  const model = path.join(dir, 'tiny.onnx');
  let local: LocalApi;
  let trainedRunId = 0;

  beforeAll(async () => {
    copyImages(path.join(cifarDir, 'train', 'deer'), inliersDir, 40);
    fs.writeFileSync(path.join(inliersDir, 'broken.jpg'), 'not a jpeg');
    copyImages(path.join(cifarDir, 'train', 'horse'), path.join(contrastDir, 'horse'), 20);
    copyImages(path.join(cifarDir, 'train', 'ship'), path.join(contrastDir, 'ship'), 20);
    writeTinyImageOnnx(model, { layout: 'NCHW', size: 8, dim: 4 });
    local = await createLocalApi({ workspace: path.join(dir, 'ws.cfstudio') });
    setApi(local.api);
    setActivePinia(createPinia());
  });

  afterAll(async () => {
    useJobsStore().stopListening();
    setApi(null);
    await local?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** the folder picker (answered by the local API's dialog queue) → scan job → dataset */
  async function pickAndScan(folder: string, purpose: string): Promise<DatasetDetail | null> {
    let scanned: DatasetDetail | null = null;
    const scan = useFolderScan(purpose, 'Choose a folder', (d) => (scanned = d));
    local.queueDialogAnswer(folder);
    await scan.pick();
    return scanned;
  }

  it('scans picked folders into dataset cards with counts, labels, skipped files and thumbnails', async () => {
    const datasets = useDatasetsStore();
    const deer = await pickAndScan(inliersDir, 'inliers');
    expect(useAppStore().error).toBeNull();
    expect(deer).toMatchObject({ kind: 'image', ok: 40, skipped: 1 });
    expect(deer?.skippedFiles.map((f) => f.relPath)).toEqual(['broken.jpg']);
    expect(datasets.thumbs.get(deer!.id)).toHaveLength(40);
    expect(datasets.scanJobs.size).toBe(0);

    const other = await pickAndScan(contrastDir, 'contrast');
    expect(other?.labels).toEqual([
      { label: 'horse', count: 20 },
      { label: 'ship', count: 20 },
    ]);
    expect(datasets.list.map((d) => d.id).sort()).toEqual([deer!.id, other!.id].sort());
  });

  it('imports an extractor, trains CF with live progress and opens the run', async () => {
    const extractors = useExtractorsStore();
    local.queueDialogAnswer(model);
    const ex = await extractors.importFromDisk();
    expect(useAppStore().error).toBeNull();
    expect(ex?.spec).toMatchObject({ width: 8, height: 8, layout: 'NCHW' });

    const runs = useRunsStore();
    await runs.loadMethods();
    const datasets = useDatasetsStore();
    const [deer, other] = [...datasets.list].sort((a, b) => a.id - b.id);
    const check = buildTrainRequest(
      {
        ...defaultDraft(),
        inlierDatasetId: deer.id,
        contrast: { kind: 'dataset', id: other.id },
        extractorId: ex!.id,
        steps: 30,
        hidden: 16,
        blocks: 2,
        // a fixed ε (as before the form left ε to the inlier-count rule): this test is about the stores
        epsText: '0',
      },
      { method: runs.methods.find((m) => m.id === 'cf') },
    );
    expect(check.ok).toBe(true);
    if (!check.ok) return;
    const outcome = await runs.train(check.request);
    expect(useAppStore().error).toBeNull();
    expect(outcome?.status).toBe('done');
    if (outcome?.status !== 'done' || outcome.result.kind !== 'train') return;
    const job = useJobsStore().get(runs.trainJobId);
    expect(job?.losses.length).toBeGreaterThan(0);
    expect(job?.losses.at(-1)?.step).toBe(30);
    expect(job?.progress?.phase).toMatch(/^train/);

    const results = useResultsStore();
    trainedRunId = outcome.result.runId;
    await results.open(outcome.result.runId);
    const run = results.detail!;
    expect(run.status).toBe('done');
    expect(run.threshold?.targetFpr).toBeCloseTo(0.05, 10);
    expect(results.total).toBe(run.scored);
    const page = results.pages.get(0)!;
    expect(page.map((s) => s.rank)).toEqual(page.map((_, i) => i + 1));
    for (let i = 1; i < page.length; i++) expect(page[i - 1].score).toBeGreaterThanOrEqual(page[i].score);
    expect(results.groups).toContain('inliers (held-out)');

    await results.setThreshold(0.3);
    const t = results.detail!.threshold!;
    expect(t.targetFpr).toBeCloseTo(0.3, 10);
    for (const s of results.pages.get(0)!) expect(s.flagged).toBe(s.score >= t.threshold);
    expect(results.pages.get(0)!.filter((s) => s.flagged).length).toBe(Math.min(t.flagged, page.length));

    await results.setGroup('inliers (held-out)');
    expect(results.pages.get(0)!.every((s) => s.group === 'inliers (held-out)')).toBe(true);

    await results.select(page[0].itemId);
    expect(results.selected?.rank).toBeGreaterThan(0);
    expect(results.selected?.neighbors.length).toBe(6);

    const csv = path.join(dir, 'ranked.csv');
    local.queueDialogAnswer(csv);
    await results.exportRun('csv');
    expect(useAppStore().error).toBeNull();
    expect(results.exported?.path).toBe(csv);
    expect(fs.readFileSync(csv, 'utf8').split('\n')[0]).toBe('rank,score,flagged,group,path,label');
    // decision metrics at the current threshold came with the threshold
    expect(results.detail!.decision?.atThreshold?.flagged).toBe(results.detail!.threshold!.flagged);
  }, 300_000);

  it('marks images, retrains with the marks into a new run with before/after, and samples prototypes', async () => {
    const results = useResultsStore();
    const feedback = useFeedbackStore();
    const ui = useUiStore();
    ui.openRun(trainedRunId);
    await results.open(trainedRunId);
    expect(feedback.canRetrain).toBe(false);
    // the top three: confirmed anomalies; the fifth: a false alarm
    await feedback.act(0, 'single');
    await feedback.act(2, 'range');
    await feedback.mark('anomaly');
    await feedback.act(4, 'single');
    await feedback.mark('normal');
    expect(useAppStore().error).toBeNull();
    expect(results.detail!.marks).toEqual({ normal: 1, anomaly: 3 });
    // re-read after marking: what the engine says a retrain would use
    expect(results.detail!.feedback).toEqual({ normal: 1, anomaly: 3, fromRuns: [trainedRunId] });
    expect(feedback.total).toBe(4);
    expect(
      results.pages
        .get(0)!
        .slice(0, 5)
        .map((s) => s.mark),
    ).toEqual(['anomaly', 'anomaly', 'anomaly', null, 'normal']);
    // what the engine stored: the list shows it after a reload too
    await results.open(trainedRunId);
    expect(
      results.pages
        .get(0)!
        .slice(0, 5)
        .map((s) => s.mark),
    ).toEqual(['anomaly', 'anomaly', 'anomaly', null, 'normal']);
    expect(feedback.canRetrain).toBe(true);

    await feedback.retrain();
    expect(useAppStore().error).toBeNull();
    expect(ui.runId).not.toBe(trainedRunId);
    await results.open(ui.runId!);
    const c = results.detail!.retrain!;
    expect(c).toMatchObject({ fromRunId: trainedRunId, normals: 1, anomalies: 3 });
    expect(c.moved).toHaveLength(4);
    expect(results.detail!.auroc).toBeCloseTo(c.after.auroc!, 10);

    const prototypes = usePrototypesStore();
    await prototypes.load(trainedRunId, 4);
    expect(prototypes.error).toBeNull();
    const info = prototypes.info!;
    expect(info.prototypes).toHaveLength(4);
    for (const p of info.prototypes) {
      expect(p.nearest).toHaveLength(3);
      for (const n of p.nearest) expect(['inlier', 'contrast']).toContain(n.role);
    }
    expect(info.chance).toBeGreaterThan(0);
    expect(info.chance).toBeLessThan(1);
  }, 300_000);
});
