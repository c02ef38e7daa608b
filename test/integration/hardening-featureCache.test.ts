/**
 * The feature cache is keyed by the bytes actually decoded (issue 13), with the real MoCo model
 * and real CIFAR-10 images through the real CLI. The case: folder A and folder B share a
 * cat image; A's copy is overwritten with a truck after A's scan; `extract A`; `extract B` must
 * compute the cat's features, not take A's (truck) vector from the cache. Every stored vector is
 * compared with a fresh extraction in an empty workspace. Also: two files with the same content at
 * the scan, one changed afterwards: the other still gets the original's features.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/main/engine/store';
import { cliWith, type Run } from '../helpers/cli';
import { cifarDir, cifarMissing, mocoModel } from '../helpers/cifarWorkspace';

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe.skipIf(cifarMissing)('feature cache keyed by the decoded bytes (real MoCo, CIFAR-10)', () => {
  let dir: string;
  const img = (cls: string, i: number) =>
    path.join(cifarDir, 'train', cls, `${String(i).padStart(4, '0')}.jpg`);
  const cat = img('cat', 0);
  const truck = img('truck', 2);
  const run = (ws: string, ...args: string[]): Run => {
    const r = cliWith({ timeoutMs: 180_000 }, ...args, '--workspace', ws);
    expect(r.status, `${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r;
  };
  /** The features a workspace holds for `hash` (null when it has none). */
  const featuresOf = (wsFile: string, hash: string): Float32Array | null => {
    const ws = Workspace.open(wsFile);
    try {
      const ex = ws.extractors.byName('moco')!;
      if (ws.features.missing(ex.id, [hash]).length > 0) return null;
      return ws.features.load(ex.id, [hash]).matrix.slice();
    } finally {
      ws.close();
    }
  };
  /** Features of `files` extracted in an empty workspace, by file. */
  const fresh = (...files: string[]): Float32Array[] => {
    const folder = fs.mkdtempSync(path.join(dir, 'fresh-'));
    files.forEach((f, i) => fs.copyFileSync(f, path.join(folder, `${i}.jpg`)));
    const ws = path.join(folder, 'ws.cfstudio');
    run(ws, 'extractor', 'add', mocoModel, '--name', 'moco', '-q');
    run(ws, 'dataset', 'add', folder, '--name', 'fresh', '-q');
    run(ws, 'extract', 'fresh', '--extractor', 'moco', '-q');
    return files.map((f) => featuresOf(ws, sha256(f))!);
  };
  const expectClose = (a: Float32Array | null, b: Float32Array, what: string) => {
    expect(a, what).not.toBeNull();
    expect(a!.length, what).toBe(b.length);
    const worst = Math.max(...Array.from(a!, (v, i) => Math.abs(v - b[i])));
    expect(worst, what).toBeLessThan(1e-4);
  };

  let catFresh: Float32Array;
  let truckFresh: Float32Array;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-cache-'));
    [catFresh, truckFresh] = fresh(cat, truck);
  }, 300_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the two images have clearly different features (so a mix-up would show)', () => {
    const diff = Math.max(...Array.from(catFresh, (v, i) => Math.abs(v - truckFresh[i])));
    expect(diff).toBeGreaterThan(0.05);
  });

  it('the issue’s case: B’s cat is extracted, not served A’s truck vector from the cache', () => {
    const a = path.join(dir, 'A');
    const b = path.join(dir, 'B');
    fs.mkdirSync(a);
    fs.mkdirSync(b);
    fs.copyFileSync(cat, path.join(a, 'x.jpg'));
    fs.copyFileSync(img('dog', 1), path.join(a, 'y.jpg'));
    fs.copyFileSync(cat, path.join(b, 'x.jpg'));
    const ws = path.join(dir, 'ws.cfstudio');
    run(ws, 'extractor', 'add', mocoModel, '--name', 'moco', '-q');
    run(ws, 'dataset', 'add', a, '--name', 'A', '-q');
    fs.copyFileSync(truck, path.join(a, 'x.jpg')); // changed after its scan
    run(ws, 'extract', 'A', '--extractor', 'moco', '-q');

    // nothing was stored under the hash taken at the scan (the cat's); the truck's hash got the truck
    expect(featuresOf(ws, sha256(cat))).toBeNull();
    expectClose(featuresOf(ws, sha256(truck)), truckFresh, 'A/x.jpg under its new hash');
    const w = Workspace.open(ws);
    const item = w.items.list(w.datasets.byName('A')!.id).find((i) => i.relPath === 'x.jpg')!;
    w.close();
    expect(item.contentHash).toBe(sha256(truck));
    expect(item.bytes).toBe(fs.statSync(truck).size);

    run(ws, 'dataset', 'add', b, '--name', 'B', '-q');
    const extractB = run(ws, 'extract', 'B', '--extractor', 'moco');
    expect(extractB.stdout).toMatch(/1 extracted, 0 from the cache/);
    expectClose(featuresOf(ws, sha256(cat)), catFresh, 'B/x.jpg');
  });

  it('two files identical at the scan, one changed: the other still gets the original’s features', () => {
    const c = path.join(dir, 'C');
    fs.mkdirSync(c);
    fs.copyFileSync(cat, path.join(c, 'a.jpg'));
    fs.copyFileSync(cat, path.join(c, 'b.jpg'));
    const ws = path.join(dir, 'ws-c.cfstudio');
    run(ws, 'extractor', 'add', mocoModel, '--name', 'moco', '-q');
    run(ws, 'dataset', 'add', c, '--name', 'C', '-q');
    fs.copyFileSync(truck, path.join(c, 'a.jpg')); // the file the job reads first
    const r = run(ws, 'extract', 'C', '--extractor', 'moco');
    expect(r.stdout).toMatch(/2 extracted, 0 from the cache, 0 failed/);
    expectClose(featuresOf(ws, sha256(truck)), truckFresh, 'C/a.jpg (changed)');
    expectClose(featuresOf(ws, sha256(cat)), catFresh, 'C/b.jpg (unchanged)');
    const w = Workspace.open(ws);
    const hashes = Object.fromEntries(
      w.items.list(w.datasets.byName('C')!.id).map((i) => [i.relPath, i.contentHash]),
    );
    w.close();
    expect(hashes).toEqual({ 'a.jpg': sha256(truck), 'b.jpg': sha256(cat) });
  });

  it('a file broken after the scan fails alone: its twin with the scanned content is still extracted', () => {
    const d = path.join(dir, 'D');
    fs.mkdirSync(d);
    fs.copyFileSync(cat, path.join(d, 'a.jpg'));
    fs.copyFileSync(cat, path.join(d, 'b.jpg'));
    const ws = path.join(dir, 'ws-d.cfstudio');
    run(ws, 'extractor', 'add', mocoModel, '--name', 'moco', '-q');
    run(ws, 'dataset', 'add', d, '--name', 'D', '-q');
    fs.writeFileSync(path.join(d, 'a.jpg'), 'no longer an image\n');
    const r = cliWith({ timeoutMs: 180_000 }, 'extract', 'D', '--extractor', 'moco', '--workspace', ws);
    expect(r.stdout + r.stderr).toMatch(/1 extracted, 0 from the cache, 1 failed/);
    expectClose(featuresOf(ws, sha256(cat)), catFresh, 'D/b.jpg');
    const w = Workspace.open(ws);
    const status = Object.fromEntries(
      w.items.list(w.datasets.byName('D')!.id).map((i) => [i.relPath, i.status]),
    );
    w.close();
    expect(status).toEqual({ 'a.jpg': 'unreadable', 'b.jpg': 'ok' });
  });
});
