/**
 * A folder scan stays inside its dataset folder (issue 13): symbolic links whose real path is
 * outside the root — to a file, a folder, `/`, relative or through another link — are reported
 * as skipped with the reason and never followed; links that stay inside still work; extraction
 * (decodeImageFile with `within`) refuses a file that resolves outside the root as well.
 * Real CIFAR-10 JPEGs; skipped when they are missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImageFile, scanFolder, type ScanResult } from '../../src/main/engine/data/images';
import { UserError } from '../../src/main/engine/util/errors';
import { cifarDir, haveCifar } from '../fixtures/badImageFolder';

describe.skipIf(!haveCifar)('folder scans stay inside the dataset folder', () => {
  let top: string;
  let root: string;
  let outside: string;
  let scan: ScanResult;
  let scanMs: number;
  const jpg = (cls: string, i: number) =>
    path.join(cifarDir, 'train', cls, `${String(i).padStart(4, '0')}.jpg`);

  beforeAll(async () => {
    top = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-links-'));
    root = path.join(top, 'dataset');
    outside = path.join(top, 'elsewhere');
    fs.mkdirSync(path.join(root, 'cat'), { recursive: true });
    fs.mkdirSync(path.join(root, '.stash'), { recursive: true });
    fs.mkdirSync(path.join(outside, 'private'), { recursive: true });
    fs.copyFileSync(jpg('cat', 0), path.join(root, 'cat', 'a.jpg'));
    fs.copyFileSync(jpg('cat', 1), path.join(root, '.stash', 'b.jpg')); // hidden: only reachable by a link
    fs.copyFileSync(jpg('dog', 0), path.join(outside, 'secret.jpg'));
    fs.copyFileSync(jpg('dog', 1), path.join(outside, 'private', 'c.jpg'));
    // inside: a file link, a folder link into a hidden folder
    fs.symlinkSync('a.jpg', path.join(root, 'cat', 'same-as-a.jpg'));
    fs.symlinkSync('.stash', path.join(root, 'stash'));
    // outside: absolute and relative file links, a folder link, `/`, and a chain through an inside link
    fs.symlinkSync(path.join(outside, 'secret.jpg'), path.join(root, 'cat', 'abs-out.jpg'));
    fs.symlinkSync('../../elsewhere/secret.jpg', path.join(root, 'cat', 'rel-out.jpg'));
    fs.symlinkSync(path.join(outside, 'private'), path.join(root, 'private'));
    fs.symlinkSync('/', path.join(root, 'disk'));
    fs.symlinkSync('abs-out.jpg', path.join(root, 'cat', 'chain.jpg'));
    const t0 = performance.now();
    scan = await scanFolder(root);
    scanMs = performance.now() - t0;
  });
  afterAll(() => fs.rmSync(top, { recursive: true, force: true }));

  const problem = (rel: string) => scan.problems.find((p) => p.relPath === rel)?.reason;

  it('records every link that leaves the root as skipped, with the reason and its target', () => {
    for (const rel of ['cat/abs-out.jpg', 'cat/rel-out.jpg', 'cat/chain.jpg', 'private', 'disk']) {
      expect(problem(rel), rel).toMatch(/^links outside the dataset folder \(to .+\); not followed$/);
    }
    expect(problem('cat/abs-out.jpg')).toContain(path.join(fs.realpathSync(outside), 'secret.jpg'));
    expect(problem('disk')).toBe('links outside the dataset folder (to /); not followed');
  });

  it('never reads a file outside the root: no item comes from there', () => {
    const rels = scan.items.map((i) => i.relPath);
    expect(rels.some((r) => r.startsWith('private/') || r.startsWith('disk/'))).toBe(false);
    expect(rels).not.toContain('cat/abs-out.jpg');
    expect(rels).not.toContain('cat/rel-out.jpg');
    expect(rels).not.toContain('cat/chain.jpg');
  });

  it('a link to / is not walked (the scan ends at once)', () => {
    expect(scanMs).toBeLessThan(10_000);
    expect(scan.items.length).toBe(3);
  });

  it('links that stay inside the root still work, to files and to folders', () => {
    const ok = scan.items.filter((i) => i.status === 'ok').map((i) => i.relPath);
    expect(ok).toEqual(['cat/a.jpg', 'cat/same-as-a.jpg', 'stash/b.jpg']);
  });

  it('extraction refuses a file that resolves outside the dataset folder (a link swapped in after the scan)', async () => {
    const target = { width: 32, height: 32, resize: 'squash' as const };
    const inside = await decodeImageFile(path.join(root, 'cat', 'same-as-a.jpg'), target, {
      within: scan.root,
    });
    expect(inside.pixels.length).toBe(32 * 32 * 3);
    let e: unknown;
    try {
      await decodeImageFile(path.join(root, 'cat', 'abs-out.jpg'), target, { within: scan.root });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).message).toMatch(/abs-out\.jpg": links outside the dataset folder/);
  });
});
