/**
 * The analyst's loop on CIFAR-10 + MoCo features, through the application layer and the CLI:
 * a run is followed live while it trains (progress and loss curve in the workspace, from the
 * worker that trains it); images of its list are marked; a retrain with confirmed anomalies
 * records a before/after comparison and pushes those anomalies up past the threshold; the
 * detector's prototypes (samples of its flow) lie in its high-density region and next to inliers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getRun,
  markItems,
  openWorkspace,
  retrainWithFeedback,
  runDetail,
  runPrototypes,
  selectionOf,
  trainDetectorInWorker,
  type Workspace,
} from '../../src/main/engine/studio';
import { UserError } from '../../src/main/engine/util/errors';
import { cifarMissing, copyCifarWorkspace } from '../helpers/cifarWorkspace';
import { cliWith, expectOk, expectUserError } from '../helpers/cli';

let dir: string;
let wsFile: string;
let ws: Workspace;
let parentId: number;
let confirmed: number[];

beforeAll(() => {
  if (cifarMissing) return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-loop-'));
  wsFile = copyCifarWorkspace(dir).file;
  ws = openWorkspace(wsFile);
}, 1_200_000);

afterAll(() => {
  ws?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(cifarMissing)('the analyst’s loop (CIFAR-10 deer, MoCo)', () => {
  it('a run is followed live while it trains in a worker: progress and loss curve, then results', async () => {
    const train = ws.datasets.byName('cifar-train')!;
    const test = ws.datasets.byName('cifar-test')!;
    const extractor = ws.extractors.list()[0];
    const seen: { phase: string; losses: number; above: number | null | undefined }[] = [];
    let runId = 0;
    let polling: NodeJS.Timeout | undefined;
    const job = trainDetectorInWorker(
      wsFile,
      {
        name: 'deer narrow',
        method: 'cf',
        inliers: selectionOf(ws, { datasetId: train.id, labels: ['deer'] }, 'inliers'),
        contrast: selectionOf(
          ws,
          { datasetId: train.id, labels: ['airplane', 'automobile', 'ship', 'truck'] },
          'contrast',
        ),
        test: {
          selection: selectionOf(ws, { datasetId: test.id, labels: null }, 'test'),
          inlierLabels: ['deer'],
        },
        extractor,
        options: { steps: 1200, hidden: 64, blocks: 4, seed: 0 },
      },
      {
        onProgress: (p) => {
          if (p.kind !== 'run') return;
          runId = p.runId;
          // another connection, as another process would read it
          polling = setInterval(() => {
            const d = runDetail(ws, runId);
            if (d.live)
              seen.push({ phase: d.live.phase, losses: d.losses.length, above: d.live.contrastAboveEps });
          }, 250);
        },
      },
    );
    const outcome = await job.finally(() => clearInterval(polling));
    expect(outcome.runId).toBe(runId);
    parentId = runId;
    const training = seen.filter((s) => s.phase.startsWith('train'));
    expect(training.length).toBeGreaterThan(0);
    // the curve grows while it trains, with the share of contrast above ε
    expect(training.at(-1)!.losses).toBeGreaterThan(0);
    expect(training.some((s) => typeof s.above === 'number')).toBe(true);
    const done = runDetail(ws, runId);
    expect(done).toMatchObject({ status: 'done', live: null, scored: 100 + 10_000 });
    expect(done.losses.at(-1)).toMatchObject({ step: 1200 });
    // a share in [0, 1] at every point, and the contrast term still working at the end (tracking ε)
    for (const l of done.losses) expect(l.contrastAboveEps).toBeGreaterThanOrEqual(0);
    for (const l of done.losses) expect(l.contrastAboveEps).toBeLessThanOrEqual(1);
    expect(done.losses.at(-1)!.contrastAboveEps).toBeGreaterThan(0.01);
    expect(done.decision!.aupr).toBeGreaterThan(0.5);
    expect(done.decision!.atThreshold!.flagged).toBe(done.threshold!.flagged);
    expect(done.distributions.map((d) => d.group)).toContain('test: horse');
    expect(done.distributions.every((d) => d.percentiles.length === 101)).toBe(true);
  }, 900_000);

  it('marks images of the list; only scored images can be marked', () => {
    const horse = runDetail(ws, parentId);
    expect(horse.marks).toEqual({ normal: 0, anomaly: 0 });
    const train = ws.datasets.byName('cifar-train')!;
    confirmed = ['horse', 'dog'].flatMap((label) =>
      ws.items
        .list(train.id, { status: 'ok', labels: [label] })
        .sort((a, b) => a.relPath.localeCompare(b.relPath))
        .slice(0, 50)
        .map((i) => i.id),
    );
    // train/horse is not in the run's list (its test set is test/): not markable there
    expect(() => markItems(ws, parentId, confirmed.slice(0, 2), 'anomaly')).toThrow(UserError);
    const testHorse = runDetail(ws, parentId).picks.find((p) => p.group === 'hardest-anomaly')!;
    expect(markItems(ws, parentId, [testHorse.itemId], 'anomaly')).toEqual({ normal: 0, anomaly: 1 });
    expect(markItems(ws, parentId, [testHorse.itemId], null)).toEqual({ normal: 0, anomaly: 0 });
  });

  it('retraining with 100 confirmed anomalies records before/after and moves them past the threshold', async () => {
    const r = await retrainWithFeedback(ws, { runId: parentId, anomalous: confirmed });
    const c = r.comparison;
    expect(c).toMatchObject({ fromRunId: parentId, anomalies: 100, normals: 0, evaluated: 100 + 10_000 });
    // 100 anomalies among 4,000 contrast rows at a 25 % share: each one ~12 times
    expect(c.anomalyCopies).toBe(Math.round((0.25 * 4000) / (0.75 * 100)));
    const child = getRun(ws, r.runId);
    const parent = getRun(ws, parentId);
    expect(child.config).toEqual(parent.config);
    expect(child.selections).toEqual(parent.selections);
    expect(child.kind === 'train' && child.metrics!.evaluation!.heldOutItemIds).toEqual(
      parent.kind === 'train' && parent.metrics!.evaluation!.heldOutItemIds,
    );
    // the confirmed anomalies were below or near the threshold; after the retrain, far more are flagged
    const above = (side: 'before' | 'after') =>
      c.moved.filter((m) => (side === 'before' ? m.flaggedBefore : m.flaggedAfter)).length;
    console.log(
      `retrain: confirmed anomalies flagged ${above('before')} → ${above('after')} of 100; AUROC ${c.before.auroc} → ${c.after.auroc}; horse ${c.before.perGroup.horse} → ${c.after.perGroup.horse}; dog ${c.before.perGroup.dog} → ${c.after.perGroup.dog}`,
    );
    expect(above('after')).toBeGreaterThan(above('before') + 20);
    // the comparison is consistent with what the workspace stores for the new run
    const d = runDetail(ws, r.runId);
    expect(d.retrain).toEqual(c);
    expect(d.auroc).toBeCloseTo(c.after.auroc!, 10);
    expect(d.threshold!.targetFpr).toBe(c.targetFpr);
  }, 900_000);

  it('prototypes sit above the median held-out log p and next to inliers far more often than chance', async () => {
    const r = await runPrototypes(ws, parentId, { count: 16 });
    console.log(
      `prototypes: nearest inlier ${r.nearestInlierShare} (chance ${r.chance.toFixed(3)}); log p ${r.prototypes.map((p) => p.logProb.toFixed(0)).join(' ')} vs held-out median ${r.heldOutMedianLogProb}`,
    );
    expect(r.prototypes).toHaveLength(16);
    const median = r.heldOutMedianLogProb!;
    expect(r.prototypes.filter((p) => p.logProb > median).length).toBeGreaterThanOrEqual(14);
    expect(r.chance).toBeCloseTo(900 / (900 + 4000), 3);
    expect(r.nearestInlierShare).toBeGreaterThan(2 * r.chance);
    expect(r.prototypes.every((p) => p.nearest.length === 3)).toBe(true);
  }, 300_000);

  it('the CLI: retrain RUN --anomalous FOLDER prints before/after; runs prototypes; clear errors', () => {
    const cli = (...args: string[]) => cliWith({ timeoutMs: 600_000 }, ...args, '--workspace', wsFile);
    const r = cli('retrain', String(parentId), '--anomalous', 'cifar-train:horse', '--json', '--quiet');
    expectOk(r);
    const j = JSON.parse(r.stdout);
    expect(j).toMatchObject({ fromRunId: parentId, anomalies: 1000, normals: 0 });
    const text = cli('runs', 'show', String(j.runId));
    expectOk(text);
    expect(text.stdout).toMatch(
      /retrained from run \d+:\nfeedback: 0 marked normal, 1000 confirmed anomalies/,
    );
    expect(text.stdout).toMatch(/AUROC % vs horse +\d+\.\d +\d+\.\d/);
    const p = cli('runs', 'prototypes', String(parentId), '--count', '4');
    expectOk(p);
    expect(p.stdout).toMatch(/nearest image is an inlier for \d+\.\d % of the samples \(chance: 18\.4 %\)/);
    expectUserError(
      cli('retrain', String(parentId)),
      /has no marked images/,
      /cfstudio retrain \d+ --normal/,
    );
  }, 900_000);
});
