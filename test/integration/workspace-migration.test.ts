/**
 * A workspace written by the last schema-v2 release (test/fixtures/workspace-v2, made at commit
 * a551f79) opens with today's code: every old run still opens (detail, threshold, histograms,
 * ROC, picks), shows the same ranked list and CSV, scores identically with its stored detector,
 * and exports the same .cfdet bytes and an ONNX scorer that gives the same scores; its data
 * selections become typed references, including a label that contains a comma.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreDetector } from '../../src/main/engine/detector/scoreDetector';
import { OnnxScorer } from '../../src/main/engine/export';
import { decodeDetector } from '../../src/main/engine/model/cfdet';
import { SCHEMA_VERSION } from '../../src/main/engine/store';
import {
  exportRun,
  getRun,
  openWorkspace,
  runCsv,
  runDetail,
  runDetector,
  runThresholdOrNull,
  scorePage,
  scoreWithRun,
  selectionOf,
  type Workspace,
} from '../../src/main/engine/studio';

const fixture = path.resolve(__dirname, '../fixtures/workspace-v2');
const OLD_ROOT = '/tmp/legacy-fixture/files';

interface OldRun {
  row: { id: number; method: string; status: string; selection: Record<string, unknown>; config: unknown };
  detail: Record<string, unknown> | { error: string };
  page: { total: number; items: Record<string, unknown>[] } | null;
  csv: string | null;
  threshold: Record<string, number> | null;
  modelSha256: string | null;
  picks: { group: string; rank: number; itemId: number; score: number }[];
  losses: number;
}
const expected = JSON.parse(fs.readFileSync(path.join(fixture, 'expected.json'), 'utf8')) as {
  roles: Record<string, number>;
  runs: Record<string, OldRun>;
};

let dir: string;
let files: string;
let ws: Workspace;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-migrate-'));
  files = path.join(dir, 'files');
  fs.cpSync(path.join(fixture, 'files'), files, { recursive: true });
  const file = path.join(dir, 'workspace.cfstudio');
  fs.copyFileSync(path.join(fixture, 'workspace.cfstudio'), file);
  // the user moved their files: point the v2 workspace at the new place, as it was (schema v2)
  const db = new Database(file);
  expect(db.pragma('user_version', { simple: true })).toBe(2);
  db.prepare('UPDATE datasets SET root = replace(root, ?, ?)').run(OLD_ROOT, files);
  db.prepare('UPDATE extractors SET path = replace(path, ?, ?)').run(OLD_ROOT, files);
  db.close();
  ws = openWorkspace(file);
});

afterAll(() => {
  ws?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const relocate = (s: string) => s.split(OLD_ROOT).join(files);
const ids = Object.keys(expected.runs).map(Number);

describe('a schema-v2 workspace (commit a551f79) after migration', () => {
  it('is at the current schema with every run, and every run reads as its kind', () => {
    expect(ws.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(ws.integrityCheck()).toBe('ok');
    expect(
      ws.runs
        .list()
        .map((r) => r.id)
        .sort((a, b) => a - b),
    ).toEqual(ids);
    const r = expected.roles;
    const kinds = Object.fromEntries(ids.map((id) => [id, getRun(ws, id).kind]));
    expect(kinds[r.appCf]).toBe('train');
    expect(kinds[r.scoreRun]).toBe('score');
    expect(kinds[r.ovr]).toBe('protocol');
    expect(kinds[r.dvd]).toBe('protocol');
    expect(kinds[r.imported]).toBe('import');
    expect(ids.filter((id) => kinds[id] === 'train')).toHaveLength(10);
  });

  it('turns display strings into typed selections, a label with a comma included', () => {
    const r = expected.roles;
    const photos = ws.datasets.byName('photos')!.id;
    const contrast = ws.datasets.byName('contrast')!.id;
    const incoming = ws.datasets.byName('incoming')!.id;
    expect(getRun(ws, r.appComma).selections).toEqual({
      inliers: { datasetId: photos, labels: ['dusk,red'], datasetName: 'photos' },
      contrast: { datasetId: contrast, labels: null, datasetName: 'contrast' },
      test: { datasetId: photos, labels: null, datasetName: 'photos' },
    });
    expect(getRun(ws, r.scoreRun).selections).toEqual({
      scored: { datasetId: incoming, labels: null, datasetName: 'incoming' },
    });
    expect(getRun(ws, r.dvd)).toMatchObject({
      config: { protocol: 'dataset-vs-dataset', testShare: 0.2, methods: ['flow'] },
      selections: {
        inliers: { datasetId: photos, labels: ['sky'] },
        anomalies: { datasetId: contrast, labels: null },
        contrast: { datasetId: photos, labels: ['grass'] },
      },
    });
    expect(getRun(ws, r.imported).selections).toEqual({});
    // the label list shows the comma label quoted, so that it reads back as one label
    expect(runDetail(ws, r.appComma).inliers).toBe('photos:"dusk,red"');
    expect(selectionOf(ws, getRun(ws, r.appComma).selections.inliers as never, 'inliers').labels).toEqual([
      'dusk,red',
    ]);
  });

  it.each(ids)('run %i opens with the same figures, ranked list, CSV and threshold', (id) => {
    const old = expected.runs[id];
    const d = runDetail(ws, id);
    const od = old.detail as Record<string, unknown>;
    expect('histograms' in od).toBe(true);
    for (const k of [
      'status',
      'method',
      'auroc',
      'eps',
      'steps',
      'backend',
      'scored',
      'perGroup',
      'aurocNote',
    ])
      expect([k, d[k as keyof typeof d]]).toEqual([k, od[k]]);
    // display strings: the same, except that a label holding a comma is now quoted
    for (const k of ['inliers', 'contrast', 'test'] as const)
      expect((d[k] ?? '').replace('"dusk,red"', 'dusk,red')).toBe(od[k] ?? '');
    expect(d.histograms).toEqual(od.histograms);
    expect(d.roc).toEqual(od.roc);
    expect(d.losses).toHaveLength(old.losses);
    expect(d.picks.map((p) => [p.group, p.rank, p.itemId, p.score])).toEqual(
      old.picks.map((p) => [p.group, p.rank, p.itemId, p.score]),
    );
    expect(runThresholdOrNull(ws, id)).toEqual(old.threshold);
    // the same list; images carry the analyst's mark now (none in an old workspace)
    if (old.page)
      expect(scorePage(ws, id, { offset: 0, limit: 2000 })).toEqual({
        ...old.page,
        items: old.page.items.map((i) => ({ ...i, mark: null })),
      });
    if (old.csv !== null) expect(runCsv(ws, id)).toBe(relocate(old.csv));
  });

  it.each(ids.filter((id) => expected.runs[id].modelSha256 !== null))(
    'run %i keeps its detector: same bytes, same scores, same .cfdet export, ONNX scores alike',
    async (id) => {
      const old = expected.runs[id];
      const { detector, bytes } = runDetector(ws, id);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(old.modelSha256);
      // scores identically: the stored features through the stored detector give the stored scores
      const run = getRun(ws, id);
      const stored = ws.scores.list(id);
      if (stored.length > 0 && run.extractorId !== null) {
        const hashes = ws.items.byIds(stored.map((s) => s.itemId)).map((i) => [i.id, i.contentHash!]);
        const hashOf = new Map(hashes as [number, string][]);
        const { dim, matrix } = ws.features.load(
          run.extractorId,
          stored.map((s) => hashOf.get(s.itemId)!),
        );
        const x = { rows: stored.length, cols: dim, data: matrix };
        const { score } = await scoreDetector(detector, x, `run ${id}`);
        stored.forEach((s, i) => expect(Math.abs(score[i] - s.score)).toBeLessThan(1e-4));
        if (['cf', 'flow', 'ratio', 'oe'].includes(detector.method)) {
          const onnxFile = path.join(dir, `run-${id}.onnx`);
          exportRun(ws, id, 'onnx', onnxFile);
          const scorer = await OnnxScorer.load(onnxFile);
          const t = runThresholdOrNull(ws, id);
          if (t) expect(scorer.metadata['cfstudio.threshold']).toBe(`${t.threshold} @ FPR ${t.targetFpr}`);
          else expect(scorer.metadata['cfstudio.threshold']).toMatch(/^none/);
          const r = await scorer.score(x);
          stored.forEach((s, i) => expect(Math.abs(r.score[i] - s.score)).toBeLessThan(1e-3));
          await scorer.release();
        }
      }
      // a .cfdet export is the stored detector plus the run's decision (threshold, held-out scores)
      const cfdet = path.join(dir, `run-${id}.cfdet`);
      exportRun(ws, id, 'cfdet', cfdet);
      const exported = decodeDetector(fs.readFileSync(cfdet), cfdet);
      const t = runThresholdOrNull(ws, id);
      if (!t) expect(fs.readFileSync(cfdet).equals(bytes)).toBe(true);
      else {
        expect({ ...exported, threshold: undefined, calibration: undefined }).toEqual({
          ...detector,
          threshold: undefined,
          calibration: undefined,
        });
        expect(exported.threshold).toEqual({
          value: t.threshold,
          targetFpr: t.targetFpr,
          heldOutCount: t.heldOutCount,
        });
      }
    },
  );

  it('scores a folder again with an old detector: a new score run with the old run’s scores', async () => {
    const r = expected.roles;
    const incoming = ws.datasets.byName('incoming')!;
    const out = await scoreWithRun(
      ws,
      r.appCf,
      selectionOf(ws, { datasetId: incoming.id, labels: null }, 'score'),
    );
    const again = new Map(ws.scores.list(out.runId).map((s) => [s.itemId, s.score]));
    const before = ws.scores.list(r.scoreRun);
    expect(again.size).toBe(before.length);
    for (const s of before) expect(Math.abs(again.get(s.itemId)! - s.score)).toBeLessThan(1e-4);
    expect(runDetail(ws, out.runId)).toMatchObject({
      kind: 'score',
      detectorRunId: r.appCf,
      threshold: { threshold: expected.runs[r.scoreRun].threshold!.threshold, targetFpr: 0.1 },
    });
  });
});
