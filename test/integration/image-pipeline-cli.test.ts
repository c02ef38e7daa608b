/**
 * The image pipeline through the `cfstudio` CLI on bad input and on a crash:
 * - a folder of good images and every kind of broken file (corrupt JPEG, truncated PNG, 0-byte
 *   file, text named .jpg, 30000×30000 PNG, symlink loop, dangling link, chmod-000 file, unicode
 *   names): every bad one reported with its reason, the good ones extracted;
 * - an ONNX file that is not an image model, and a file that is not ONNX at all: clear errors;
 * - SIGKILL in the middle of an extraction: the workspace passes PRAGMA integrity_check, keeps
 *   the batches written before the kill, and a rerun resumes instead of starting over;
 * - Ctrl-C (SIGINT): exit 130, recorded progress kept.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Workspace } from '../../src/main/engine/store';
import {
  makeBadImageFolder,
  removeBadImageFolder,
  haveCifar,
  cifarDir,
  type BadImageFolder,
} from '../fixtures/badImageFolder';
import { writeTabularOnnx } from '../fixtures/onnxModels';
import { cliSpawn, cliWith, expectOk, expectUserError, sharedDir } from '../helpers/cli';

const model = path.join(sharedDir, 'models', 'moco_r18_cifar10.onnx');
const missing = !haveCifar || !fs.existsSync(model);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-imgcli-'));
afterAll(() => {
  removeBadImageFolder(path.join(dir, 'photos'));
  fs.rmSync(dir, { recursive: true, force: true });
});

function ws(file: string) {
  return (...args: string[]) => cliWith({ timeoutMs: 300_000 }, ...args, '--workspace', file);
}

describe.skipIf(missing)(
  missing
    ? `SKIPPED: shared CIFAR-10 images or MoCo model not found under ${sharedDir}`
    : 'image pipeline CLI: bad input',
  () => {
    const run = ws(path.join(dir, 'bad.cfstudio'));
    let folder: BadImageFolder;
    const photos = path.join(dir, 'photos');

    beforeAll(async () => {
      fs.mkdirSync(photos);
      folder = await makeBadImageFolder(photos);
    });

    it('dataset add reports every bad file with its reason and keeps the good ones', () => {
      const r = run('dataset', 'add', photos, '--name', 'photos');
      expectOk(r);
      const okCount = folder.expectedOk.length;
      expect(r.stdout).toContain(`added dataset "photos"`);
      expect(r.stdout).toMatch(new RegExp(`: ${okCount} images`));
      for (const [rel, reason] of Object.entries(folder.expectedUnreadable))
        expect(r.stderr, `${rel} should be reported with "${reason}"\n${r.stderr}`).toContain(
          `skipped ${rel}: `,
        );
      for (const [rel, reason] of Object.entries(folder.expectedUnreadable)) {
        const line = r.stderr.split('\n').find((l) => l.includes(`skipped ${rel}: `))!;
        expect(line.toLowerCase()).toContain(reason.toLowerCase());
      }
      for (const rel of folder.expectedProblems) expect(r.stderr).toContain(`skipped ${rel}`);
      expect(r.stderr).toMatch(/bad\/huge\.png: too large: 30000×30000/);
      expect(r.stderr).toMatch(/empty/);
      // the JSON view lists the same unreadable files
      const show = run('dataset', 'show', 'photos', '--json');
      expectOk(show);
      const d = JSON.parse(show.stdout);
      expect(d.skippedFiles.map((u: { relPath: string }) => u.relPath).sort()).toEqual(
        Object.keys(folder.expectedUnreadable).sort(),
      );
    }, 300_000);

    it('extract: the good images (unicode names included) get features; the bad ones are not retried', () => {
      expectOk(run('extractor', 'add', model, '--name', 'moco'));
      const r = run('extract', 'photos', '--json');
      expectOk(r);
      const res = JSON.parse(r.stdout);
      const w = Workspace.open(path.join(dir, 'bad.cfstudio'));
      try {
        const ds = w.datasets.byName('photos')!;
        const ok = w.items.list(ds.id, { status: 'ok' });
        const names = ok.map((i) => i.relPath);
        for (const rel of folder.expectedOk) expect(names).toContain(rel);
        expect(names.some((n) => /[^\x00-\x7f]/.test(n))).toBe(true);
        const hashes = [...new Set(ok.map((i) => i.contentHash!))];
        expect(res.failed).toEqual([]);
        expect(res.total).toBe(hashes.length);
        expect(w.features.missing(w.extractors.byName('moco')!.id, hashes)).toEqual([]);
        expect(w.integrityCheck()).toBe('ok');
      } finally {
        w.close();
      }
    }, 300_000);

    it('an ONNX model that is not an image model, and a file that is not ONNX: clear errors', () => {
      const tab = path.join(dir, 'tabular.onnx');
      writeTabularOnnx(tab);
      expectUserError(run('extractor', 'add', tab), /not an image model/, '"x"');
      const txt = path.join(dir, 'notes.onnx');
      fs.writeFileSync(txt, 'this is not a model\n');
      expectUserError(run('extractor', 'add', txt), /not an ONNX model/);
      // a bare name is a dataset (never a folder); the advice names the datasets there are
      expectUserError(
        run('extract', 'nope', '--extractor', 'moco'),
        /"nope" is not a dataset of this workspace/,
        /fix: datasets here: photos \(e\.g\. photos, or some of its labels: photos:label1,label2\)/,
      );
      expectUserError(run('extract', './nope', '--extractor', 'moco'), /folder not found: \.\/nope/);
    });
  },
);

describe.skipIf(missing)(
  missing ? 'SKIPPED: shared data missing' : 'image pipeline CLI: crash and cancel during extraction',
  () => {
    const file = path.join(dir, 'crash.cfstudio');
    const run = ws(file);
    const featureCount = () => {
      const w = Workspace.open(file);
      try {
        return { n: w.features.count(w.extractors.byName('moco')!.id), integrity: w.integrityCheck() };
      } finally {
        w.close();
      }
    };

    /** Starts `extract`, waits until `minRows` features are committed, then sends `signal`. */
    async function interrupt(dataset: string, signal: NodeJS.Signals, minRows: number) {
      const child = cliSpawn('extract', dataset, '--batch', '32', '--workspace', file);
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise<number | null>((res) =>
        child.on('exit', (code, sig) => res(sig ? -1 : code)),
      );
      const t0 = Date.now();
      while (Date.now() - t0 < 120_000) {
        await new Promise((r) => setTimeout(r, 50));
        if (featureCount().n >= minRows) break;
      }
      const before = featureCount().n;
      child.kill(signal);
      const code = await exited;
      return { code, before, stderr };
    }

    it('SIGKILL mid-extraction loses at most the batch in flight; integrity ok; a rerun resumes', async () => {
      expectOk(run('extractor', 'add', model, '--name', 'moco'));
      expectOk(
        run('dataset', 'add', path.join(cifarDir, 'train', 'airplane'), '--name', 'airplane', '--quiet'),
      );
      const k = await interrupt('airplane', 'SIGKILL', 64);
      expect(k.code).toBe(-1);
      const after = featureCount();
      expect(after.integrity).toBe('ok');
      // what was committed before the kill is still there (batches are transactions)
      expect(after.n).toBeGreaterThanOrEqual(k.before);
      expect(after.n).toBeGreaterThanOrEqual(64);
      expect(after.n).toBeLessThan(1000);
      const r = run('extract', 'airplane', '--json');
      expectOk(r);
      const res = JSON.parse(r.stdout);
      expect(res.cached).toBe(after.n);
      expect(res.extracted).toBe(1000 - after.n);
      expect(featureCount()).toEqual({ n: 1000, integrity: 'ok' });
    }, 300_000);

    it('Ctrl-C (SIGINT) cancels with exit 130 and keeps the finished batches', async () => {
      expectOk(run('dataset', 'add', path.join(cifarDir, 'train', 'ship'), '--name', 'ship', '--quiet'));
      const before = featureCount().n;
      const k = await interrupt('ship', 'SIGINT', before + 64);
      expect(k.code, k.stderr).toBe(130);
      expect(k.stderr).toMatch(/cancel/);
      const after = featureCount();
      expect(after.integrity).toBe('ok');
      expect(after.n).toBeGreaterThanOrEqual(before + 64);
    }, 300_000);
  },
);
