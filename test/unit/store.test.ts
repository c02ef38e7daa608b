/**
 * The SQLite experiment store: opening and migrating workspace files, refusing files it must not
 * touch, and every repository's round trip. Each test works in its own temporary folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultDetectorConfig } from '../../src/main/engine/detector/config';
import { UserError } from '../../src/main/engine/util/errors';
import {
  defaultWorkspacePath,
  migrate,
  MIGRATIONS,
  SCHEMA_VERSION,
  Workspace,
  type NewItem,
} from '../../src/main/engine/store';

let dir: string;
const opened: { close(): void }[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-store-'));
});

afterEach(() => {
  for (const w of opened.splice(0)) w.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function openWs(name = 'ws.cfstudio', options: { readonly?: boolean } = {}): Workspace {
  const ws = Workspace.open(path.join(dir, name), options);
  opened.push(ws);
  return ws;
}

function rawDb(name: string): Database.Database {
  const db = new Database(path.join(dir, name));
  opened.push(db);
  return db;
}

/** Run fn, assert it throws a UserError whose message matches every part and that has a hint. */
function userError(fn: () => unknown, ...parts: RegExp[]): UserError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(UserError);
  const ue = err as UserError;
  for (const p of parts) expect(ue.message).toMatch(p);
  // every store error says what to do: a sentence with a verb, or a code each front end turns
  // into its own advice (src/main/cli/hints.ts, src/main/ipc/hints.ts)
  if (ue.code === 'invalid-input')
    expect(ue.hint).toMatch(/\b(Check|Choose|Update|Restore|Open|Run|Remove|Pick|Rename|Use|Add|Extract)\b/i);
  else expect(ue.hint).toBeUndefined();
  return ue;
}

function item(
  relPath: string,
  label: string,
  contentHash: string | null,
  extra: Partial<NewItem> = {},
): NewItem {
  return {
    relPath,
    label,
    contentHash,
    width: 32,
    height: 24,
    format: 'png',
    bytes: 1234,
    mtimeMs: 1_700_000_000_000.5,
    status: 'ok',
    reason: null,
    ...extra,
  };
}

function tableColumns(db: Database.Database, table: string): string[] {
  return (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
}

/** Bytes of a float32 vector, little-endian, as SQLite should hold them. */
function leBytes(v: Float32Array): Buffer {
  const b = Buffer.alloc(v.length * 4);
  v.forEach((x, i) => b.writeFloatLE(x, i * 4));
  return b;
}

describe('opening a workspace', () => {
  it('creates folders, the current schema, WAL and foreign keys on a fresh file', () => {
    const ws = openWs('deep/er/ws.cfstudio');
    expect(fs.existsSync(path.join(dir, 'deep/er/ws.cfstudio'))).toBe(true);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.at(-1)!.version);
    expect(ws.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(ws.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(ws.db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(ws.db.pragma('busy_timeout', { simple: true })).toBe(10000);
    expect(ws.db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
    expect(tableColumns(ws.db, 'features')).toEqual([
      'content_hash',
      'extractor_id',
      'dim',
      'vector',
      'created',
    ]);
    expect(tableColumns(ws.db, 'run_picks')).toEqual(['run_id', 'grp', 'rank', 'item_id', 'score']);
    expect(tableColumns(ws.db, 'items')).toEqual(expect.arrayContaining(['format', 'bytes', 'mtime_ms']));
    expect(tableColumns(ws.db, 'runs')).toEqual(
      expect.arrayContaining(['name', 'extractor_id', 'timings', 'selection', 'parent_run_id']),
    );
    expect(ws.integrityCheck()).toBe('ok');
  });

  it('migrate() reports from/to and is a no-op on a current file', () => {
    const db = rawDb('m.cfstudio');
    expect(migrate(db)).toEqual({ from: 0, to: SCHEMA_VERSION });
    expect(migrate(db)).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
    expect(MIGRATIONS.map((m) => m.version)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps data across close and reopen', () => {
    const file = 'keep.cfstudio';
    const a = openWs(file);
    const ds = a.datasets.create({ name: 'cats', kind: 'image', root: '/data/cats' });
    a.close();
    const b = openWs(file);
    expect(b.datasets.get(ds.id)).toEqual(ds);
  });

  it('refuses a file written by a newer CF Studio', () => {
    const db = rawDb('new.cfstudio');
    db.pragma('user_version = 99');
    db.close();
    const err = userError(
      () => openWs('new.cfstudio'),
      /newer CF Studio/,
      /v99/,
      new RegExp(`knows v${SCHEMA_VERSION}`),
      /new\.cfstudio/,
    );
    expect(err.code).toBe('workspace-newer');
    expect(err.data).toMatchObject({ version: 99, known: SCHEMA_VERSION });
  });

  it('refuses a file that is not SQLite, and leaves it alone', () => {
    const file = path.join(dir, 'notes.cfstudio');
    const text = 'these are my notes, not a database\n'.repeat(40);
    fs.writeFileSync(file, text);
    userError(
      () => openWs('notes.cfstudio'),
      /notes\.cfstudio/,
      /not a CF Studio workspace \(not a SQLite file\)/,
    );
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
  });

  it("refuses another program's SQLite database and leaves it byte for byte as it was", () => {
    const db = rawDb('other.db');
    db.exec('CREATE TABLE contacts (name TEXT)');
    db.close();
    const before = fs.readFileSync(path.join(dir, 'other.db'));
    userError(() => openWs('other.db'), /other\.db/, /another program/);
    expect(fs.readFileSync(path.join(dir, 'other.db')).equals(before)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'other.db-wal'))).toBe(false);
  });

  it('says so when the workspace folder cannot be created', () => {
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    userError(() => openWs('file/sub/ws.cfstudio'), /cannot create the folder/, /ws\.cfstudio/);
  });

  it('opens read-only without migrating, and refuses a missing or old file', () => {
    userError(() => openWs('missing.cfstudio', { readonly: true }), /does not exist/);

    const old = rawDb('old.cfstudio');
    migrate(old, { to: 1 });
    old.close();
    userError(() => openWs('old.cfstudio', { readonly: true }), /schema v1/, /upgrade/);

    const rw = openWs('ro.cfstudio');
    rw.datasets.create({ name: 'cats', kind: 'image', root: '/c' });
    rw.close();
    const ro = openWs('ro.cfstudio', { readonly: true });
    expect(ro.datasets.list().map((d) => d.name)).toEqual(['cats']);
    expect(() => ro.datasets.create({ name: 'dogs', kind: 'image', root: '/d' })).toThrow(/readonly/);
  });

  it('lets a second connection read what the first committed', () => {
    const a = openWs('shared.cfstudio');
    const b = openWs('shared.cfstudio');
    const ds = a.datasets.create({ name: 'cats', kind: 'image', root: '/c' });
    a.items.upsertMany(ds.id, [item('a.png', 'cat', 'h1')]);
    expect(b.items.list(ds.id).map((i) => i.relPath)).toEqual(['a.png']);
  });
});

describe('defaultWorkspacePath', () => {
  const home = '/home/ana';
  it("matches Electron's userData folder for an app named CF Studio", () => {
    expect(defaultWorkspacePath({}, 'linux', home)).toBe('/home/ana/.config/CF Studio/workspace.cfstudio');
    expect(defaultWorkspacePath({ XDG_CONFIG_HOME: '/x/cfg' }, 'linux', home)).toBe(
      '/x/cfg/CF Studio/workspace.cfstudio',
    );
    expect(defaultWorkspacePath({}, 'darwin', '/Users/ana')).toBe(
      '/Users/ana/Library/Application Support/CF Studio/workspace.cfstudio',
    );
    expect(
      defaultWorkspacePath({ APPDATA: 'C:\\Users\\ana\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ana'),
    ).toBe('C:\\Users\\ana\\AppData\\Roaming\\CF Studio\\workspace.cfstudio');
  });

  it('lets CFSTUDIO_WORKSPACE override it', () => {
    expect(defaultWorkspacePath({ CFSTUDIO_WORKSPACE: '/tmp/w.cfstudio' }, 'linux', home)).toBe(
      '/tmp/w.cfstudio',
    );
  });
});

/** A detector config as every CF Studio release wrote it. */
const CONFIG = defaultDetectorConfig('cf', 'l2');

describe('migration from schema v1', () => {
  // two images with one content hash (h-shared) in two datasets: v1 stored its vector twice
  const shared = new Float32Array([0.1, -2.5, 3e-39, 1e30]);
  const other = new Float32Array([1, 2, 3, 4]);

  /** A workspace as CF Studio schema v1 wrote it. */
  function buildV1(name: string): void {
    const db = rawDb(name);
    db.pragma('foreign_keys = ON');
    migrate(db, { to: 1 });
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tableColumns(db, 'features')).toEqual(['item_id', 'extractor_id', 'vector']);
    db.exec(`
      INSERT INTO datasets (id, name, kind, root, created) VALUES
        (1, 'pets', 'image', '/data/pets', '2025-01-02T03:04:05.000Z'),
        (2, 'imagenet-sample', 'image', '/data/inet', '2025-01-02T03:05:00.000Z');
      INSERT INTO items (id, dataset_id, rel_path, label, content_hash, width, height, status, reason) VALUES
        (10, 1, 'cat/a.png', 'cat', 'h-shared', 64, 48, 'ok', NULL),
        (11, 1, 'dog/b.png', 'dog', 'h-other', 64, 48, 'ok', NULL),
        (12, 1, 'dog/broken.png', 'dog', NULL, NULL, NULL, 'unreadable', 'truncated PNG'),
        (20, 2, 'n01/a-copy.png', 'n01', 'h-shared', 64, 48, 'ok', NULL),
        (21, 2, 'n02/nohash.png', 'n02', NULL, 64, 48, 'ok', NULL);
      INSERT INTO extractors (id, name, file_hash, path, input_spec) VALUES
        (1, 'moco-v2', 'fh1', '/models/moco.onnx', '{"size":224,"mean":[0.485,0.456,0.406]}');
      INSERT INTO runs (id, method, config, inlier_dataset_id, contrast_dataset_id, test_dataset_id, status,
                        started, finished, backend, metrics, error) VALUES
        (1, 'cf', '${JSON.stringify(CONFIG)}', 1, 2, 1, 'done', '2025-01-03T00:00:00.000Z',
         '2025-01-03T00:10:00.000Z', 'wasm', '{"auroc":0.93,"eps":null,"contrastAboveEps":null,"phases":[],"notes":[]}', NULL);
      INSERT INTO run_losses (run_id, step, inlier_nll, contrast_nll) VALUES
        (1, 0, 5.5, 7.25), (1, 10, 3.5, 8.0), (1, 20, 2.0, NULL);
      INSERT INTO scores (run_id, item_id, score) VALUES (1, 10, -1.5), (1, 11, 4.25), (1, 20, 0.5);
      INSERT INTO models (run_id, format, bytes, path, sha256) VALUES (1, 'cfdet', x'00ff10', NULL, 'abc');
    `);
    const putFeature = db.prepare('INSERT INTO features (item_id, extractor_id, vector) VALUES (?, 1, ?)');
    putFeature.run(10, leBytes(shared));
    putFeature.run(11, leBytes(other));
    putFeature.run(20, leBytes(shared));
    putFeature.run(21, leBytes(other)); // no content hash: cannot be carried over
    db.close();
  }

  it('migrates to the current schema keeping datasets, items, runs, losses, scores and models', () => {
    buildV1('v1.cfstudio');
    const ws = openWs('v1.cfstudio');
    expect(ws.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(ws.integrityCheck()).toBe('ok');
    expect(ws.db.pragma('foreign_key_check')).toEqual([]);

    expect(ws.datasets.list()).toEqual([
      {
        id: 2,
        name: 'imagenet-sample',
        kind: 'image',
        root: '/data/inet',
        created: '2025-01-02T03:05:00.000Z',
        items: 2,
        ok: 2,
        unreadable: 0,
        labels: ['n01', 'n02'],
      },
      {
        id: 1,
        name: 'pets',
        kind: 'image',
        root: '/data/pets',
        created: '2025-01-02T03:04:05.000Z',
        items: 3,
        ok: 2,
        unreadable: 1,
        labels: ['cat', 'dog'],
      },
    ]);
    expect(ws.items.get(12)).toEqual({
      id: 12,
      datasetId: 1,
      relPath: 'dog/broken.png',
      label: 'dog',
      contentHash: null,
      width: null,
      height: null,
      format: null,
      bytes: null,
      mtimeMs: null,
      status: 'unreadable',
      reason: 'truncated PNG',
    });
    expect(ws.items.list(1).map((i) => i.id)).toEqual([10, 11, 12]);

    expect(ws.runs.get(1)).toEqual({
      id: 1,
      name: null,
      kind: 'train',
      method: 'cf',
      config: CONFIG,
      inlierDatasetId: 1,
      contrastDatasetId: 2,
      testDatasetId: 1,
      extractorId: null,
      selections: {},
      parentRunId: null,
      status: 'done',
      started: '2025-01-03T00:00:00.000Z',
      finished: '2025-01-03T00:10:00.000Z',
      backend: 'wasm',
      metrics: { auroc: 0.93, evaluation: null, eps: null, contrastAboveEps: null, phases: [], notes: [] },
      timings: null,
      error: null,
      progress: null,
    });
    expect(ws.runs.losses(1)).toEqual([
      { step: 0, inlierNll: 5.5, contrastNll: 7.25, contrastAboveEps: null },
      { step: 10, inlierNll: 3.5, contrastNll: 8, contrastAboveEps: null },
      { step: 20, inlierNll: 2, contrastNll: null, contrastAboveEps: null },
    ]);
    expect(ws.scores.list(1)).toEqual([
      { itemId: 11, score: 4.25, datasetId: 1, relPath: 'dog/b.png', label: 'dog' },
      { itemId: 20, score: 0.5, datasetId: 2, relPath: 'n01/a-copy.png', label: 'n01' },
      { itemId: 10, score: -1.5, datasetId: 1, relPath: 'cat/a.png', label: 'cat' },
    ]);
    const model = ws.models.get(1)!;
    expect(Array.from(model.bytes!)).toEqual([0x00, 0xff, 0x10]);
    expect(ws.extractors.get(1)!.inputSpec).toEqual({ size: 224, mean: [0.485, 0.456, 0.406] });
  });

  it('re-keys features by content hash: one row per shared hash, bytes intact', () => {
    buildV1('v1f.cfstudio');
    const ws = openWs('v1f.cfstudio');
    const rows = ws.db
      .prepare('SELECT content_hash AS h, extractor_id AS e, dim, vector, created FROM features ORDER BY h')
      .all() as { h: string; e: number; dim: number; vector: Buffer; created: string }[];
    expect(rows.map((r) => [r.h, r.e, r.dim])).toEqual([
      ['h-other', 1, 4],
      ['h-shared', 1, 4],
    ]);
    expect(rows[1].vector.equals(leBytes(shared))).toBe(true);
    expect(rows[0].vector.equals(leBytes(other))).toBe(true);
    expect(new Date(rows[0].created).toISOString()).toBe(rows[0].created);

    expect(ws.features.count(1)).toBe(2);
    const { dim, matrix } = ws.features.load(1, ['h-shared', 'h-other', 'h-shared']);
    expect(dim).toBe(4);
    expect(Array.from(matrix)).toEqual([...shared, ...other, ...shared]);
    expect(ws.features.missing(1, ['h-shared', 'h-new'])).toEqual(['h-new']);
  });

  it('leaves the new tables and columns usable', () => {
    buildV1('v1n.cfstudio');
    const ws = openWs('v1n.cfstudio');
    ws.scores.putPicks(1, [
      { group: 'hardest-anomaly', rank: 0, itemId: 11, score: 4.25 },
      { group: 'lowest-inlier', rank: 0, itemId: 10, score: -1.5 },
    ]);
    expect(ws.scores.picks(1).map((p) => [p.group, p.itemId])).toEqual([
      ['lowest-inlier', 10],
      ['hardest-anomaly', 11],
    ]);
    const child = ws.runs.create({
      kind: 'train',
      name: 'pets: cat vs rest',
      method: 'cf',
      config: CONFIG,
      extractorId: 1,
      selections: { inliers: { datasetId: 1, labels: ['cat'], datasetName: 'pets' } },
      parentRunId: 1,
    });
    expect(ws.runs.list({ parentRunId: 1 }).map((r) => r.id)).toEqual([child]);
    ws.items.upsertMany(1, [item('cat/a.png', 'cat', 'h-shared', { format: 'png', bytes: 99 })]);
    expect(ws.items.get(10)).toMatchObject({ format: 'png', bytes: 99, mtimeMs: 1_700_000_000_000.5 });
  });

  it('rolls a failing migration back to the last complete version', () => {
    const db = rawDb('half.cfstudio');
    migrate(db, { to: 1 });
    // a v1 file damaged by hand: a table the v2 migration wants to create already exists
    db.exec('CREATE TABLE run_picks (x INTEGER)');
    expect(() => migrate(db)).toThrow(/run_picks/);
    expect(db.pragma('user_version', { simple: true })).toBe(1);
    expect(tableColumns(db, 'items')).not.toContain('format');
    expect(tableColumns(db, 'features')).toEqual(['item_id', 'extractor_id', 'vector']);
  });
});

describe('repositories', () => {
  it('datasets: create, look up, refuse a duplicate name, list with counts', () => {
    const ws = openWs();
    const cats = ws.datasets.create({ name: 'cats', kind: 'image', root: '/data/cats' });
    expect(cats).toMatchObject({ name: 'cats', kind: 'image', root: '/data/cats' });
    expect(new Date(cats.created).toISOString()).toBe(cats.created);
    expect(ws.datasets.byName('cats')).toEqual(cats);
    expect(ws.datasets.get(cats.id)).toEqual(cats);
    expect(ws.datasets.get(999)).toBeUndefined();
    const err = userError(
      () => ws.datasets.create({ name: 'cats', kind: 'image', root: '/elsewhere' }),
      /dataset named "cats" already exists/,
    );
    expect(err.hint).toMatch(/another name/);

    const empty = ws.datasets.create({ name: 'empty', kind: 'tabular', root: '/t.csv' });
    ws.items.upsertMany(cats.id, [
      item('tabby/1.png', 'tabby', 'a'),
      item('tabby/2.png', 'tabby', 'b'),
      item('siamese/1.png', 'siamese', null, { status: 'unreadable', reason: 'not an image' }),
    ]);
    expect(ws.datasets.list()).toEqual([
      { ...cats, items: 3, ok: 2, unreadable: 1, labels: ['siamese', 'tabby'] },
      { ...empty, items: 0, ok: 0, unreadable: 0, labels: [] },
    ]);
  });

  it('datasets: removing one cascades to its items, scores and picks, keeps runs and features', () => {
    const ws = openWs();
    const keep = ws.datasets.create({ name: 'keep', kind: 'image', root: '/k' });
    const gone = ws.datasets.create({ name: 'gone', kind: 'image', root: '/g' });
    ws.items.upsertMany(keep.id, [item('k.png', 'x', 'hk')]);
    ws.items.upsertMany(gone.id, [item('g1.png', 'x', 'hg'), item('g2.png', 'y', 'hg2')]);
    const [g1, g2] = ws.items.list(gone.id);
    const [k] = ws.items.list(keep.id);
    const ex = ws.extractors.upsert({ name: 'm', fileHash: 'f', path: '/m/m.onnx', inputSpec: null });
    ws.features.putMany(ex.id, [{ contentHash: 'hg', vector: new Float32Array([1, 2]) }]);
    const run = ws.runs.create({
      kind: 'train',
      method: 'cf',
      config: CONFIG,
      extractorId: ex.id,
      selections: {
        inliers: { datasetId: keep.id, labels: null, datasetName: 'keep' },
        contrast: { datasetId: gone.id, labels: null, datasetName: 'gone' },
      },
      parentRunId: null,
    });
    ws.scores.putMany(run, [
      { itemId: k.id, score: 1 },
      { itemId: g1.id, score: 2 },
    ]);
    ws.scores.putPicks(run, [{ group: 'hardest-anomaly', rank: 0, itemId: g2.id, score: 3 }]);

    expect(ws.datasets.remove(gone.id)).toBe(true);
    expect(ws.datasets.remove(gone.id)).toBe(false);
    expect(ws.items.get(g1.id)).toBeUndefined();
    expect(ws.items.list(gone.id)).toEqual([]);
    expect(ws.items.get(k.id)?.relPath).toBe(k.relPath);
    expect(ws.scores.list(run).map((s) => s.itemId)).toEqual([k.id]);
    expect(ws.scores.picks(run)).toEqual([]);
    expect(ws.runs.get(run)).toMatchObject({ inlierDatasetId: keep.id, contrastDatasetId: null });
    expect(ws.features.count(ex.id)).toBe(1);
    expect(ws.db.pragma('foreign_key_check')).toEqual([]);
  });

  it('items: upsertMany keeps ids on a re-scan and updates fields; list filters; removeMissing', () => {
    const ws = openWs();
    const ds = ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' });
    ws.items.upsertMany(ds.id, [
      item('dog/b.png', 'dog', 'h2'),
      item('cat/a.png', 'cat', 'h1'),
      item('cat/c.png', 'cat', 'h3'),
      item('bird/d.png', 'bird', 'h4'),
    ]);
    const first = ws.items.list(ds.id);
    expect(first.map((i) => i.relPath)).toEqual(['bird/d.png', 'cat/a.png', 'cat/c.png', 'dog/b.png']);
    expect(first[1]).toEqual({ id: first[1].id, datasetId: ds.id, ...item('cat/a.png', 'cat', 'h1') });
    const idOf = new Map(first.map((i) => [i.relPath, i.id]));

    // the re-scan: a.png changed on disk, c.png became unreadable, e.png is new
    ws.items.upsertMany(ds.id, [
      item('cat/a.png', 'cat', 'h1-new', { width: 640, bytes: 5000 }),
      item('cat/c.png', 'cat', null, { status: 'unreadable', reason: 'truncated' }),
      item('cat/e.png', 'cat', 'h5'),
    ]);
    const a = ws.items.get(idOf.get('cat/a.png')!)!;
    expect(a).toMatchObject({ relPath: 'cat/a.png', contentHash: 'h1-new', width: 640, bytes: 5000 });
    expect(ws.items.get(idOf.get('cat/c.png')!)).toMatchObject({ status: 'unreadable', reason: 'truncated' });
    expect(ws.items.list(ds.id)).toHaveLength(5);

    expect(ws.items.list(ds.id, { status: 'ok', labels: ['cat'] }).map((i) => i.relPath)).toEqual([
      'cat/a.png',
      'cat/e.png',
    ]);
    expect(ws.items.list(ds.id, { labels: ['dog', 'bird'] }).map((i) => i.label)).toEqual(['bird', 'dog']);
    expect(ws.items.list(ds.id, { status: 'unreadable' }).map((i) => i.relPath)).toEqual(['cat/c.png']);
    expect(ws.items.list(ds.id, { labels: [] })).toEqual([]);
    expect(ws.items.labels(ds.id)).toEqual([
      { label: 'bird', count: 1 },
      { label: 'cat', count: 3 },
      { label: 'dog', count: 1 },
    ]);
    // readable images only (what the app shows and a run can use): c.png is unreadable
    expect(ws.items.labels(ds.id, { status: 'ok' })).toEqual([
      { label: 'bird', count: 1 },
      { label: 'cat', count: 2 },
      { label: 'dog', count: 1 },
    ]);

    ws.items.markUnreadable(idOf.get('dog/b.png')!, 'decoder failed');
    expect(ws.items.get(idOf.get('dog/b.png')!)).toMatchObject({
      status: 'unreadable',
      reason: 'decoder failed',
    });

    expect(ws.items.removeMissing(ds.id, ['cat/a.png', 'cat/e.png', 'dog/b.png'])).toBe(2);
    expect(ws.items.list(ds.id).map((i) => i.relPath)).toEqual(['cat/a.png', 'cat/e.png', 'dog/b.png']);
    expect(ws.items.get(idOf.get('cat/a.png')!)!.id).toBe(a.id);

    const ids = [idOf.get('dog/b.png')!, 424242, idOf.get('cat/a.png')!];
    expect(ws.items.byIds(ids).map((i) => i.relPath)).toEqual(['dog/b.png', 'cat/a.png']);
  });

  it('items: a failing batch writes nothing', () => {
    const ws = openWs();
    const ds = ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' });
    const bad = { ...item('b.png', 'x', 'h'), status: 'broken' } as unknown as NewItem;
    expect(() => ws.items.upsertMany(ds.id, [item('a.png', 'x', 'h'), bad])).toThrow(/CHECK/);
    expect(ws.items.list(ds.id)).toEqual([]);
  });

  it('extractors: upsert by file hash keeps the id; look up by hash and by name', () => {
    const ws = openWs();
    const spec = { size: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
    const a = ws.extractors.upsert({ name: 'moco', fileHash: 'fh-a', path: '/m/moco.onnx', inputSpec: spec });
    expect(a).toEqual({ id: a.id, name: 'moco', fileHash: 'fh-a', path: '/m/moco.onnx', inputSpec: spec });
    const moved = ws.extractors.upsert({
      name: 'moco',
      fileHash: 'fh-a',
      path: '/new/moco.onnx',
      inputSpec: spec,
    });
    expect(moved.id).toBe(a.id);
    expect(moved.path).toBe('/new/moco.onnx');
    const b = ws.extractors.upsert({
      name: 'moco',
      fileHash: 'fh-b',
      path: '/m/moco2.onnx',
      inputSpec: null,
    });
    expect(b.id).not.toBe(a.id);
    expect(ws.extractors.byHash('fh-a')).toEqual(moved);
    expect(ws.extractors.byName('moco')!.id).toBe(b.id);
    expect(ws.extractors.byName('nope')).toBeUndefined();
    expect(ws.extractors.get(b.id)!.inputSpec).toBeNull();
    expect(ws.extractors.list().map((e) => e.fileHash)).toEqual(['fh-a', 'fh-b']);
  });

  it('features: vectors round-trip bit-exact, little-endian', () => {
    const ws = openWs();
    const ex = ws.extractors.upsert({ name: 'm', fileHash: 'f', path: '/m/m.onnx', inputSpec: null });
    const special = new Float32Array([NaN, -0, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, -1.5]);
    const big = new Float32Array(1 + special.length);
    big.set(special, 1);
    const rows = [
      { contentHash: 'special', vector: special },
      // a view at a non-zero offset into a bigger buffer
      { contentHash: 'view', vector: big.subarray(1) },
    ];
    ws.features.putMany(ex.id, rows);
    const blob = ws.db
      .prepare("SELECT vector FROM features WHERE content_hash = 'special'")
      .pluck()
      .get() as Buffer;
    expect(blob.equals(leBytes(special))).toBe(true);

    const { dim, matrix } = ws.features.load(ex.id, ['view', 'special']);
    expect(dim).toBe(7);
    const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    expect(bits(matrix)).toEqual([...bits(special), ...bits(special)]);
    expect(Object.is(matrix[1], -0)).toBe(true);
  });

  it('features: missing() over thousands of hashes, in the order asked', () => {
    const ws = openWs();
    const ex = ws.extractors.upsert({ name: 'm', fileHash: 'f', path: '/m/m.onnx', inputSpec: null });
    const other = ws.extractors.upsert({ name: 'o', fileHash: 'g', path: '/m/o.onnx', inputSpec: null });
    const hashes = Array.from({ length: 2500 }, (_, i) => `hash-${i}`);
    const present = hashes.filter((_, i) => i % 3 === 0);
    ws.features.putMany(
      ex.id,
      present.map((h, i) => ({ contentHash: h, vector: new Float32Array([i, i + 0.5, -i]) })),
    );
    expect(ws.features.count(ex.id)).toBe(present.length);
    expect(ws.features.count(other.id)).toBe(0);

    const missing = ws.features.missing(ex.id, [...hashes, 'hash-1', 'hash-0']);
    expect(missing).toEqual(hashes.filter((_, i) => i % 3 !== 0));
    expect(ws.features.missing(other.id, hashes)).toHaveLength(2500);
    expect(ws.features.missing(ex.id, [])).toEqual([]);

    // load keeps the requested order, not storage order
    const order = [present[500], present[0], present[833]];
    const { matrix } = ws.features.load(ex.id, order);
    expect(Array.from(matrix)).toEqual([500, 500.5, -500, 0, 0.5, -0, 833, 833.5, -833]);
    const all = ws.features.load(ex.id, present);
    expect(all.matrix.length).toBe(present.length * 3);
    expect(all.matrix[3 * 777 + 1]).toBe(777.5);
  });

  it('features: load() names how many hashes lack features; mixed lengths are refused', () => {
    const ws = openWs();
    const ex = ws.extractors.upsert({ name: 'moco', fileHash: 'f', path: '/m/m.onnx', inputSpec: null });
    ws.features.putMany(ex.id, [
      { contentHash: 'a', vector: new Float32Array([1, 2]) },
      { contentHash: 'b', vector: new Float32Array([3, 4]) },
    ]);
    const err = userError(() => ws.features.load(ex.id, ['a', 'x', 'b', 'y', 'z']), /3 of 5/, /"moco"/);
    expect(err.hint).toMatch(/extract their features/);
    expect(ws.features.load(ex.id, [])).toEqual({ dim: 2, matrix: new Float32Array(0) });

    // a wrong length, in the batch or against stored rows, rolls the whole batch back
    expect(() =>
      ws.features.putMany(ex.id, [
        { contentHash: 'c', vector: new Float32Array([5, 6]) },
        { contentHash: 'd', vector: new Float32Array([7, 8, 9]) },
      ]),
    ).toThrow(/must all have 2 values/);
    expect(() => ws.features.putMany(ex.id, [{ contentHash: 'e', vector: new Float32Array(3) }])).toThrow(
      /must all have 2 values/,
    );
    expect(ws.features.count(ex.id)).toBe(2);
    expect(ws.features.missing(ex.id, ['c'])).toEqual(['c']);

    // replacing a vector
    ws.features.putMany(ex.id, [{ contentHash: 'a', vector: new Float32Array([9, 9]) }]);
    expect(Array.from(ws.features.load(ex.id, ['a']).matrix)).toEqual([9, 9]);
  });

  it('runs: lifecycle, listing newest first, losses, removal', () => {
    const ws = openWs();
    const ds = ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' });
    const cat = { datasetId: ds.id, labels: ['cat'], datasetName: 'pets' };
    const base = {
      kind: 'train' as const,
      method: 'cf',
      config: { ...CONFIG, eps: { mode: 'auto' as const, quantile: 0.1, offset: -2.3 } },
      extractorId: null,
      selections: { inliers: cat, contrast: 'permutation' as const, test: { ...cat, labels: null } },
      parentRunId: null,
    };
    const evalRun = ws.runs.create({
      kind: 'protocol',
      name: 'one-vs-rest',
      method: 'protocol:one-vs-rest',
      config: {
        protocol: 'one-vs-rest',
        methods: ['cf'],
        classes: ['cat', 'dog'],
        perMethod: { cf: CONFIG },
      },
      extractorId: null,
      selections: { train: cat },
      parentRunId: null,
    });
    const c1 = ws.runs.create({ ...base, parentRunId: evalRun });
    const c2 = ws.runs.create({
      ...base,
      parentRunId: evalRun,
      selections: { inliers: { ...cat, labels: ['dog'] } },
    });
    const solo = ws.runs.create(base);

    expect(ws.runs.get(evalRun)).toMatchObject({
      name: 'one-vs-rest',
      kind: 'protocol',
      status: 'queued',
      started: null,
      selections: { train: cat },
      inlierDatasetId: ds.id,
    });
    expect(ws.runs.get(solo)).toMatchObject({
      kind: 'train',
      config: { eps: { mode: 'auto', quantile: 0.1, offset: -2.3 } },
      selections: { inliers: cat, contrast: 'permutation', test: { ...cat, labels: null } },
      inlierDatasetId: ds.id,
      contrastDatasetId: null,
      testDatasetId: ds.id,
    });
    // a record that does not fit its kind's schema is refused, not stored
    expect(() => ws.runs.create({ ...base, config: { steps: 3 } as never })).toThrow(
      /config of a new train run is not valid/,
    );
    expect(() => ws.runs.finish(solo, { status: 'done', metrics: { auroc: 'high' } })).toThrow(
      /metrics of run/,
    );
    ws.runs.start(c1, 'tfjs-node');
    const running = ws.runs.get(c1)!;
    expect(running).toMatchObject({ status: 'running', backend: 'tfjs-node', finished: null });
    expect(new Date(running.started!).toISOString()).toBe(running.started);

    const metrics = {
      evaluation: null,
      auroc: 0.91,
      eps: null,
      contrastAboveEps: 0.25,
      phases: [],
      notes: ['n'],
    };
    ws.runs.finish(c1, { status: 'done', metrics, timings: { trainMs: 1200 } });
    // the backend may only be known once training picked one
    ws.runs.start(c2);
    expect(ws.runs.get(c2)).toMatchObject({ status: 'running', backend: null });
    ws.runs.finish(c2, { status: 'failed', backend: 'wasm', error: 'NaN loss at step 40' });
    expect(ws.runs.get(c2)!.backend).toBe('wasm');
    expect(ws.runs.get(c1)!.backend).toBe('tfjs-node');
    expect(ws.runs.get(c1)).toMatchObject({
      status: 'done',
      metrics,
      timings: { trainMs: 1200 },
      error: null,
    });
    expect(ws.runs.get(c1)!.finished).not.toBeNull();
    expect(ws.runs.get(c2)).toMatchObject({ status: 'failed', error: 'NaN loss at step 40', metrics: null });
    expect(() => ws.runs.start(9999, 'wasm')).toThrow(/run 9999 does not exist/);

    expect(ws.runs.list().map((r) => r.id)).toEqual([solo, c2, c1, evalRun]);
    expect(ws.runs.list({ parentRunId: null }).map((r) => r.id)).toEqual([solo, evalRun]);
    expect(ws.runs.list({ parentRunId: evalRun }).map((r) => r.id)).toEqual([c2, c1]);

    ws.runs.addLosses(c1, [
      { step: 0, inlierNll: 4.5, contrastNll: 6 },
      { step: 1, inlierNll: NaN, contrastNll: null },
    ]);
    ws.runs.addLosses(c1, [{ step: 1, inlierNll: 3.25, contrastNll: 5.5, contrastAboveEps: 0.125 }]);
    expect(ws.runs.losses(c1)).toEqual([
      { step: 0, inlierNll: 4.5, contrastNll: 6, contrastAboveEps: null },
      { step: 1, inlierNll: 3.25, contrastNll: 5.5, contrastAboveEps: 0.125 },
    ]);
    ws.runs.addLosses(solo, [{ step: 0, inlierNll: NaN, contrastNll: null }]);
    expect(ws.runs.losses(solo)[0].inlierNll).toBeNaN();

    expect(ws.runs.remove(evalRun)).toBe(true);
    expect(ws.runs.list().map((r) => r.id)).toEqual([solo]);
    expect(ws.runs.losses(c1)).toEqual([]);
  });

  it('scores, picks and models round-trip', () => {
    const ws = openWs();
    const ds = ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' });
    ws.items.upsertMany(ds.id, [
      item('a.png', 'cat', 'h1'),
      item('b.png', 'dog', 'h2'),
      item('c.png', 'dog', 'h3'),
    ]);
    const [a, b, c] = ws.items.list(ds.id);
    const run = ws.runs.create({
      kind: 'train',
      method: 'knn',
      config: { ...CONFIG, method: 'knn', baseline: { k: 5 } },
      extractorId: null,
      selections: { inliers: { datasetId: ds.id, labels: null, datasetName: 'pets' } },
      parentRunId: null,
    });
    ws.scores.putMany(run, [
      { itemId: a.id, score: 0.25 },
      { itemId: b.id, score: 7.5 },
      { itemId: c.id, score: -Infinity },
    ]);
    ws.scores.putMany(run, [{ itemId: a.id, score: 9 }]);
    expect(ws.scores.list(run)).toEqual([
      { itemId: a.id, score: 9, datasetId: ds.id, relPath: 'a.png', label: 'cat' },
      { itemId: b.id, score: 7.5, datasetId: ds.id, relPath: 'b.png', label: 'dog' },
      { itemId: c.id, score: -Infinity, datasetId: ds.id, relPath: 'c.png', label: 'dog' },
    ]);
    expect(() => ws.scores.putMany(run, [{ itemId: b.id, score: NaN }])).toThrow(/NaN/);
    expect(ws.scores.list(run)[1].score).toBe(7.5);

    ws.scores.putPicks(run, [
      { group: 'strangest-inlier', rank: 0, itemId: a.id, score: 9 },
      { group: 'hardest-anomaly', rank: 1, itemId: c.id, score: -1 },
      { group: 'hardest-anomaly', rank: 0, itemId: b.id, score: 7.5 },
      { group: 'lowest-inlier', rank: 0, itemId: c.id, score: -2 },
    ]);
    expect(ws.scores.picks(run).map((p) => [p.group, p.rank, p.relPath])).toEqual([
      ['lowest-inlier', 0, 'c.png'],
      ['hardest-anomaly', 0, 'b.png'],
      ['hardest-anomaly', 1, 'c.png'],
      ['strangest-inlier', 0, 'a.png'],
    ]);
    ws.scores.putPicks(run, [{ group: 'lowest-inlier', rank: 0, itemId: b.id, score: 1 }]);
    expect(ws.scores.picks(run)).toEqual([
      {
        group: 'lowest-inlier',
        rank: 0,
        itemId: b.id,
        score: 1,
        datasetId: ds.id,
        relPath: 'b.png',
        label: 'dog',
      },
    ]);

    const bytes = new Uint8Array(300).map((_, i) => (i * 7) % 256);
    ws.models.put(run, { format: 'cfdet', bytes: bytes.subarray(10), sha256: 'deadbeef' });
    const m = ws.models.get(run)!;
    expect(m).toMatchObject({ runId: run, format: 'cfdet', path: null, sha256: 'deadbeef' });
    expect(Buffer.from(m.bytes!).equals(Buffer.from(bytes.subarray(10)))).toBe(true);
    ws.models.put(run, { format: 'onnx', path: '/exports/det.onnx', sha256: 'cafe' });
    expect(ws.models.get(run)).toEqual({
      runId: run,
      format: 'onnx',
      bytes: null,
      path: '/exports/det.onnx',
      sha256: 'cafe',
    });
    expect(() => ws.models.put(run, { format: 'onnx', sha256: 'x' })).toThrow(/bytes or a path/);
    expect(ws.models.get(run + 1)).toBeUndefined();
  });

  it('Workspace.transaction commits all or nothing; integrityCheck says ok', () => {
    const ws = openWs();
    expect(() =>
      ws.transaction(() => {
        const ds = ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' });
        ws.items.upsertMany(ds.id, [item('a.png', 'cat', 'h1')]);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ws.datasets.list()).toEqual([]);
    const id = ws.transaction(() => ws.datasets.create({ name: 'pets', kind: 'image', root: '/p' }).id);
    expect(ws.datasets.get(id)!.name).toBe('pets');
    expect(ws.integrityCheck()).toBe('ok');
  });
});
