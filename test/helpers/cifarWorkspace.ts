/**
 * One CIFAR-10 workspace with every image's MoCo features, built once per machine (and per change
 * of the data, the model, the schema or the extraction code) through the real `cfstudio` CLI,
 * then copied by each test that needs it. Extracting all 20,000 images takes minutes on this
 * 2-core machine; the CLI test and the UI test both need them, so they share this build.
 *
 * Concurrent test workers: the first takes a lock folder and builds; the others wait for it.
 * What the build's CLI commands printed is kept in meta.json, for the tests that check it.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SCHEMA_VERSION } from '../../src/main/engine/store';
import { cliWith, repoRoot, sharedDir, type Run } from './cli';

export const cifarDir = path.join(sharedDir, 'data', 'cifar10');
export const mocoModel = path.join(sharedDir, 'models', 'moco_r18_cifar10.onnx');
export const cifarMissing = !fs.existsSync(path.join(cifarDir, 'train')) || !fs.existsSync(mocoModel);

export interface CifarTemplateMeta {
  extractorAdd: Run;
  datasetAdd: Record<'cifar-train' | 'cifar-test', Run>;
  extract: Record<'cifar-train' | 'cifar-test', Run>;
  /** seconds per 10,000 images of the first extraction */
  extractSecondsPer10k: number;
}

function buildKey(): string {
  const h = createHash('sha256');
  h.update(String(SCHEMA_VERSION));
  const st = fs.statSync(mocoModel);
  h.update(`${st.size}:${st.mtimeMs}`);
  for (const split of ['train', 'test']) h.update(String(fs.statSync(path.join(cifarDir, split)).mtimeMs));
  // extraction code: a change invalidates the cached template
  for (const rel of ['src/main/engine/features', 'src/main/engine/data/images', 'src/main/engine/store']) {
    const dir = path.join(repoRoot, rel);
    for (const f of fs.readdirSync(dir, { recursive: true }).map(String).sort()) {
      const full = path.join(dir, f);
      if (fs.statSync(full).isFile()) h.update(f).update(fs.readFileSync(full));
    }
  }
  return h.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** The template's folder (ws.cfstudio + meta.json), built if needed. Synchronous (runs the CLI). */
export function cifarTemplate(): { file: string; meta: CifarTemplateMeta } {
  const dir = path.join(os.tmpdir(), `cfstudio-cifar-template-${buildKey()}`);
  const file = path.join(dir, 'ws.cfstudio');
  const metaFile = path.join(dir, 'meta.json');
  const lock = `${dir}.lock`;
  for (;;) {
    if (fs.existsSync(metaFile))
      return { file, meta: JSON.parse(fs.readFileSync(metaFile, 'utf8')) as CifarTemplateMeta };
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // another worker builds it; a lock older than 40 min belongs to a dead run
      const age = Date.now() - (fs.statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 40 * 60_000) fs.rmSync(lock, { recursive: true, force: true });
      sleep(2000);
    }
  }
  try {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const run = (...args: string[]) => cliWith({ timeoutMs: 1_500_000 }, ...args, '--workspace', file);
    const must = (r: Run, what: string) => {
      if (r.status !== 0)
        throw new Error(`CIFAR template: ${what} failed (exit ${r.status}): ${r.stderr.slice(-2000)}`);
      return r;
    };
    const extractorAdd = must(run('extractor', 'add', mocoModel, '--name', 'moco'), 'extractor add');
    const datasetAdd = {
      'cifar-train': must(
        run('dataset', 'add', path.join(cifarDir, 'train'), '--name', 'cifar-train', '--quiet'),
        'dataset add train',
      ),
      'cifar-test': must(
        run('dataset', 'add', path.join(cifarDir, 'test'), '--name', 'cifar-test', '--quiet'),
        'dataset add test',
      ),
    };
    const t0 = performance.now();
    const extract = {
      'cifar-train': must(run('extract', 'cifar-train', '--json'), 'extract train'),
      'cifar-test': must(run('extract', 'cifar-test', '--json'), 'extract test'),
    };
    const meta: CifarTemplateMeta = {
      extractorAdd,
      datasetAdd,
      extract,
      extractSecondsPer10k: (performance.now() - t0) / 1000 / 2,
    };
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    return { file, meta };
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** A private copy of the template workspace in `dir` (tests may write to it). */
export function copyCifarWorkspace(dir: string): { file: string; meta: CifarTemplateMeta } {
  const t = cifarTemplate();
  const file = path.join(dir, 'ws.cfstudio');
  fs.copyFileSync(t.file, file);
  return { file, meta: t.meta };
}
