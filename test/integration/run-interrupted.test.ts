/**
 * Runs left "running" by a process that died become "interrupted" when a workspace is opened,
 * while a run in progress in a live process is left alone (store/repos/runOwner.ts, runs.ts,
 * studio/workspace.ts):
 * - schema v4 on a v3 workspace: the runs table is rebuilt with the new status, nothing that
 *   hangs off a run (losses, scores, models) is lost, ownerless 'running' runs become interrupted;
 * - the owner rules on real processes: a dead pid, a live pid, a stale heartbeat, this process;
 * - the probe: `kill -9` a real `cfstudio train` mid-training while another
 *   `cfstudio train` keeps running, then `cfstudio runs list`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, SCHEMA_VERSION, Workspace } from '../../src/main/engine/store';
import { STALE_MS } from '../../src/main/engine/store/repos/runOwner';
import { RunRepo } from '../../src/main/engine/store/repos/runs';
import { openWorkspace } from '../../src/main/engine/studio';
import { writeTinyImageOnnx } from '../fixtures/onnxModels';
import { cliSpawn, cliWith, expectOk } from '../helpers/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-interrupted-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A workspace at schema v3 holding one 'running' run (no owner: v3 has none) with a loss and a score. */
function v3Workspace(file: string): void {
  const db = new Database(file);
  db.pragma('foreign_keys = ON');
  migrate(db, { to: 3 });
  db.exec(`
    INSERT INTO datasets (id, name, kind, root, created) VALUES (1, 'd', 'image', '/d', '2024-01-01');
    INSERT INTO items (id, dataset_id, rel_path, label, content_hash, status)
      VALUES (1, 1, 'a.png', '', 'h1', 'ok');
    INSERT INTO runs (id, kind, method, config, status, started) VALUES
      (1, 'train', 'cf', '{}', 'running', '2024-01-01T00:00:00Z'),
      (2, 'train', 'cf', '{}', 'done', '2024-01-01T00:00:00Z'),
      (3, 'train', 'cf', '{}', 'queued', NULL);
    INSERT INTO run_losses (run_id, step, inlier_nll, contrast_nll) VALUES (1, 1, 2.5, 3.5);
    INSERT INTO scores (run_id, item_id, score) VALUES (1, 1, 0.5);
    INSERT INTO models (run_id, format, bytes, sha256) VALUES (2, 'cfdet', x'00', 'abc');
  `);
  db.close();
}

const statusOf = (ws: Workspace) =>
  Object.fromEntries(
    (ws.db.prepare('SELECT id, status FROM runs ORDER BY id').all() as { id: number; status: string }[]).map(
      (r) => [r.id, r.status],
    ),
  );

describe('schema v4: the interrupted status and run owners', () => {
  it('a v3 workspace migrates: its runs keep their losses, scores and models; ownerless running runs become interrupted', () => {
    const file = path.join(dir, 'v3.cfstudio');
    v3Workspace(file);
    const ws = openWorkspace(file);
    try {
      expect(ws.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(ws.integrityCheck()).toBe('ok');
      expect(ws.db.pragma('foreign_key_check')).toEqual([]);
      expect(ws.db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(statusOf(ws)).toEqual({ 1: 'interrupted', 2: 'done', 3: 'interrupted' });
      const r1 = ws.db.prepare('SELECT error, finished FROM runs WHERE id = 1').get() as { error: string };
      expect(r1.error).toMatch(/^interrupted: a CF Studio process older than this workspace schema stopped/);
      // nothing cascaded while the table was rebuilt
      expect(ws.db.prepare('SELECT count(*) FROM run_losses WHERE run_id = 1').pluck().get()).toBe(1);
      expect(ws.db.prepare('SELECT count(*) FROM scores WHERE run_id = 1').pluck().get()).toBe(1);
      expect(ws.db.prepare('SELECT count(*) FROM models WHERE run_id = 2').pluck().get()).toBe(1);
      // the indexes of v2/v3 are back, and the constraint still refuses unknown statuses
      const indexes = ws.db
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'runs'")
        .pluck()
        .all();
      expect(indexes).toEqual(expect.arrayContaining(['runs_parent', 'runs_kind', 'runs_active']));
      expect(() => ws.db.prepare("UPDATE runs SET status = 'bogus' WHERE id = 2").run()).toThrow(/CHECK/);
      // deleting a run still cascades (the foreign keys point at the new table)
      ws.db.prepare('DELETE FROM runs WHERE id = 1').run();
      expect(ws.db.prepare('SELECT count(*) FROM run_losses').pluck().get()).toBe(0);
    } finally {
      ws.close();
    }
  });
});

describe('who owns a run in progress', () => {
  /** A child process that stays alive until killed. */
  const sleeper = () => spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = (c: ChildProcess) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)));

  it('a dead owner’s runs are interrupted; a live one’s, a fresh heartbeat’s and our own are not', async () => {
    const file = path.join(dir, 'owners.cfstudio');
    const ws = Workspace.open(file);
    const live = sleeper();
    const dead = sleeper();
    dead.kill('SIGKILL');
    await exited(dead);
    try {
      const config = { detector: null };
      const newRun = (pid: number, token: string, host = os.hostname()) => {
        const repo = new RunRepo(ws.db, { pid, host, token });
        const id = repo.create({
          kind: 'import',
          method: 'cf',
          config: config as never,
          extractorId: null,
          selections: {},
          parentRunId: null,
        });
        repo.start(id);
        return { id, repo };
      };
      const mine = newRun(process.pid, 'this-thread');
      const alive = newRun(live.pid!, 'live');
      const gone = newRun(dead.pid!, 'dead');
      const elsewhere = newRun(live.pid!, 'other-host', 'another-machine');
      const reader = new RunRepo(ws.db, { pid: process.pid, host: os.hostname(), token: 'this-thread' });
      expect(reader.interruptAbandoned().sort()).toEqual([gone.id]);
      // a heartbeat older than STALE_MS: the owner is gone even if its pid lives (reused pid, other host)
      const later = Date.now() + STALE_MS + 1000;
      expect(reader.interruptAbandoned(later).sort()).toEqual([alive.id, elsewhere.id].sort());
      expect(statusOf(ws)[mine.id]).toBe('running');
      // an owner that comes back takes its runs again, until it finishes them
      expect(alive.repo.heartbeat()).toBe(1);
      expect(statusOf(ws)[alive.id]).toBe('running');
      expect(ws.db.prepare('SELECT error FROM runs WHERE id = ?').pluck().get(alive.id)).toBeNull();
      alive.repo.finish(alive.id, { status: 'cancelled' });
      expect(alive.repo.heartbeat()).toBe(0);
    } finally {
      live.kill('SIGKILL');
      ws.close();
    }
  });
});

/** Solid-colour 32×32 PNGs (a little noise so no two are the same). */
async function imageFolder(folder: string, n: number, base: [number, number, number]): Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  for (let i = 0; i < n; i++) {
    const px = Buffer.alloc(32 * 32 * 3);
    for (let j = 0; j < px.length; j++) px[j] = (base[j % 3] + ((i * 7 + j * 13) % 40)) & 255;
    await sharp(px, { raw: { width: 32, height: 32, channels: 3 } })
      .png()
      .toFile(path.join(folder, `${i}.png`));
  }
}

describe('the issue’s probe: kill -9 during cfstudio train', () => {
  it('the killed run shows as interrupted in `cfstudio runs list`; a run in a live process stays running', async () => {
    const file = path.join(dir, 'cli.cfstudio');
    const run = (...args: string[]) => cliWith({ timeoutMs: 120_000 }, ...args, '--workspace', file);
    const model = path.join(dir, 'tiny.onnx');
    writeTinyImageOnnx(model, { layout: 'NCHW', size: 32, dim: 8 });
    await imageFolder(path.join(dir, 'in'), 30, [40, 90, 160]);
    await imageFolder(path.join(dir, 'contrast'), 30, [200, 60, 30]);
    expectOk(run('extractor', 'add', model, '--name', 'tiny', '--quiet'));
    expectOk(run('dataset', 'add', path.join(dir, 'in'), '--name', 'in', '--quiet'));
    expectOk(run('dataset', 'add', path.join(dir, 'contrast'), '--name', 'contrast', '--quiet'));
    const train = (out: string) =>
      cliSpawn(
        'train',
        ...['--inliers', 'in', '--contrast', 'contrast', '--method', 'cf', '--out', path.join(dir, out)],
        ...['--steps', '5000000', '--hidden', '8', '--blocks', '1', '--workspace', file],
      );
    const killed = train('killed.cfdet');
    const live = train('live.cfdet');
    // what the two printed, for the failure messages
    let output = '';
    for (const c of [killed, live]) {
      c.stdout!.on('data', (d: Buffer) => (output = (output + String(d)).slice(-4000)));
      c.stderr!.on('data', (d: Buffer) => (output = (output + String(d)).slice(-4000)));
    }
    const exits = [killed, live].map(
      (c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r()))),
    );
    try {
      // both are training: each has a running run with loss points recorded
      const runningOf = () => {
        const ws = Workspace.open(file, { readonly: true });
        try {
          return ws.db
            .prepare(
              `SELECT r.id, r.owner_pid AS pid FROM runs r WHERE r.status = 'running'
               AND EXISTS (SELECT 1 FROM run_losses l WHERE l.run_id = r.id)`,
            )
            .all() as { id: number; pid: number }[];
        } finally {
          ws.close();
        }
      };
      await expect
        .poll(() => runningOf().length, { timeout: 90_000, interval: 500 })
        .toBe(2)
        .catch((e: Error) => Promise.reject(new Error(`${e.message}\n${output}`)));
      const byPid = new Map(runningOf().map((r) => [r.pid, r.id]));
      const killedRun = byPid.get(killed.pid!)!;
      const liveRun = byPid.get(live.pid!)!;
      expect(killedRun).toBeGreaterThan(0);
      expect(liveRun).toBeGreaterThan(0);

      killed.kill('SIGKILL');
      await exits[0];
      const list = run('runs', 'list');
      expect(list.status, `${list.stderr}\n${output}`).toBe(0);
      const row = (id: number) => list.stdout.split('\n').find((l) => new RegExp(`^\\s*${id}\\s`).test(l));
      expect(row(killedRun), list.stdout).toMatch(/\binterrupted\b/);
      expect(row(liveRun), list.stdout).toMatch(/\brunning\b/);
      const json = run('runs', 'list', '--json');
      expectOk(json);
      const runs = JSON.parse(json.stdout) as { id: number; status: string; error: string | null }[];
      expect(runs.find((r) => r.id === killedRun)).toMatchObject({
        status: 'interrupted',
        error: expect.stringMatching(
          new RegExp(`process ${killed.pid} on .* stopped before the run finished`),
        ),
      });
      expect(runs.find((r) => r.id === liveRun)).toMatchObject({ status: 'running', error: null });
    } finally {
      killed.kill('SIGKILL');
      live.kill('SIGKILL');
      await Promise.all(exits);
    }
  }, 240_000);
});
