/**
 * The two front ends are adapters over one application layer: given the same request, the CLI
 * (`cfstudio train`, a real child process) and the app's IPC handlers record the same run —
 * config, data selections, metrics, loss curve, scores and threshold. And the same bad request
 * is refused by both with the same error code, each with its own advice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addImageDataset,
  openWorkspace,
  registerExtractor,
  runThresholdOrNull,
  type RunRow,
  type Workspace,
} from '../../src/main/engine/studio';
import { cliWith, expectOk, expectUserError } from '../helpers/cli';
import { createLocalApi, type LocalApi } from '../helpers/localApi';

const files = path.resolve(__dirname, '../fixtures/workspace-v2/files');
let dir: string;
let wsFile: string;
let app: LocalApi;
let ids: { photos: number; contrast: number; extractor: number };

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-agree-'));
  fs.cpSync(files, path.join(dir, 'files'), { recursive: true });
  wsFile = path.join(dir, 'ws.cfstudio');
  const ws = openWorkspace(wsFile);
  try {
    const photos = await addImageDataset(ws, path.join(dir, 'files', 'photos'), { name: 'photos' });
    const contrast = await addImageDataset(ws, path.join(dir, 'files', 'contrast'), { name: 'contrast' });
    const ex = await registerExtractor(ws, path.join(dir, 'files', 'extractor.onnx'), { name: 'tiny' });
    ids = { photos: photos.dataset.id, contrast: contrast.dataset.id, extractor: ex.extractor.id };
  } finally {
    ws.close();
  }
  app = await createLocalApi({ workspace: wsFile });
}, 60_000);

afterAll(async () => {
  await app?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => cliWith({ timeoutMs: 120_000 }, ...args, '--workspace', wsFile);

/** What must agree between two runs of the same request (times, ids and speeds may differ). */
function comparable(ws: Workspace, run: RunRow) {
  const metrics = run.kind === 'train' ? run.metrics : null;
  return {
    kind: run.kind,
    method: run.method,
    status: run.status,
    config: run.config,
    selections: run.selections,
    extractorId: run.extractorId,
    backend: run.backend,
    metrics: metrics && {
      ...metrics,
      phases: metrics.phases.map((p) => ({ ...p, stepsPerSec: 0 })),
      evaluation: metrics.evaluation,
    },
    losses: ws.runs.losses(run.id),
    scores: ws.scores.list(run.id).map((s) => [s.itemId, s.score]),
    picks: ws.scores.picks(run.id).map((p) => [p.group, p.rank, p.itemId, p.score]),
    threshold: runThresholdOrNull(ws, run.id),
  };
}

describe('the CLI and the app record the same run for the same request', () => {
  it('CF on photos:"dusk,red" against contrast, 40 steps: identical config, selections, metrics, scores', async () => {
    const { jobId } = await app.api.invoke('runs:train', {
      method: 'cf',
      inliers: { datasetId: ids.photos, labels: ['dusk,red'] },
      contrast: { datasetId: ids.contrast, labels: null },
      test: null,
      extractorId: ids.extractor,
      steps: 40,
      eps: 0,
      hidden: 16,
      blocks: 2,
      seed: 3,
    });
    const done = await app.waitForJob(jobId, 120_000);
    if (done.kind !== 'train') throw new Error('not a train job');

    const model = path.join(dir, 'cli.cfdet');
    const r = cli(
      'train',
      '--inliers',
      'photos:"dusk,red"',
      '--contrast',
      'contrast',
      '--method',
      'cf',
      '--extractor',
      'tiny',
      '--steps',
      '40',
      '--eps',
      '0',
      '--hidden',
      '16',
      '--blocks',
      '2',
      '--seed',
      '3',
      '--out',
      model,
      '--json',
      '--quiet',
    );
    expectOk(r);
    const cliRun = JSON.parse(r.stdout) as { runId: number; auroc: number };
    expect(cliRun.runId).not.toBe(done.runId);

    const ws = openWorkspace(wsFile);
    try {
      const a = comparable(ws, ws.runs.get(done.runId)!);
      const c = comparable(ws, ws.runs.get(cliRun.runId)!);
      expect(c).toEqual(a);
      // and they are what was asked for, not two equal mistakes
      expect(a.selections).toEqual({
        inliers: { datasetId: ids.photos, labels: ['dusk,red'], datasetName: 'photos' },
        contrast: { datasetId: ids.contrast, labels: null, datasetName: 'contrast' },
        test: { datasetId: ids.contrast, labels: null, datasetName: 'contrast' },
      });
      expect(a.config).toMatchObject({
        method: 'cf',
        train: { steps: 40, seed: 3 },
        flow: { hidden: 16, blocks: 2 },
      });
      expect(a.metrics?.evaluation).toMatchObject({ anomalySource: 'contrast', trainItemCount: 22 });
      expect(a.scores).toHaveLength(2 + 40);
      expect(a.metrics?.auroc).toBe(cliRun.auroc);
      expect(fs.statSync(model).size).toBeGreaterThan(1000);
    } finally {
      ws.close();
    }
  }, 300_000);

  it('refuses a contrast method without contrast with the same code, each front end with its own advice', async () => {
    const viaApp = await app.api
      .invoke('runs:train', {
        method: 'ratio',
        inliers: { datasetId: ids.photos, labels: ['sky'] },
        contrast: null,
        test: null,
        extractorId: ids.extractor,
        steps: 5,
        eps: 0,
        hidden: 8,
        blocks: 1,
        seed: 0,
      })
      .then(
        () => null,
        (e: { apiError: { code: string; message: string; hint: string } }) => e.apiError,
      );
    expect(viaApp).toMatchObject({
      code: 'method-needs-contrast',
      message: 'Flow-ratio needs contrast data',
    });
    expect(viaApp!.hint).toMatch(/contrast folder/);
    expect(viaApp!.hint).not.toMatch(/--|cfstudio/);
    const r = cli(
      'train',
      '--inliers',
      'photos:sky',
      '--method',
      'ratio',
      '--out',
      path.join(dir, 'x.cfdet'),
    );
    expectUserError(r, 'Flow-ratio needs contrast data', /fix: add --contrast FOLDER/);
    expect(fs.existsSync(path.join(dir, 'x.cfdet'))).toBe(false);
  });
});
