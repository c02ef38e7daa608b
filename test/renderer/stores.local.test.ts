// @vitest-environment node
/**
 * (Node, not happy-dom: this file runs the real main-process engine in the test process, and
 * happy-dom's browser globals make TensorFlow.js think it is in a browser and fetch its files
 * from http://localhost:3000. The stores need no DOM.)
 *
 * The renderer's stores against the real main-process handlers and a real SQLite workspace
 * (test/helpers/localApi.ts): scan two small folders, import a tiny .onnx extractor, train a short
 * CF run through the jobs store, then page, threshold, open an item and export from the results
 * store. Uses a few shared CIFAR-10 JPEGs; skipped when they are not there.
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
import { useJobsStore } from '../../src/renderer/src/stores/jobs';
import { useResultsStore } from '../../src/renderer/src/stores/results';
import { useRunsStore } from '../../src/renderer/src/stores/runs';

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
  }, 300_000);
});
