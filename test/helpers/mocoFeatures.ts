/**
 * The shared MoCo CIFAR-10 features (L2-normalized, as CF trains on them) from a CIFAR template
 * workspace already on this machine (test/helpers/cifarWorkspace.ts builds one, minutes of
 * extraction; the newest /tmp/cfstudio-cifar-template-* is used, or $CFSTUDIO_CIFAR_WORKSPACE).
 * Returns null when there is none: callers fall back to other data, they do not build one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { l2Normalize } from '../../src/main/engine/data/normalize';
import { openWorkspace, resolveDataRef } from '../../src/main/engine/studio';
import { loadSelection } from '../../src/main/engine/studio/selection';

export interface MocoCifar {
  source: string;
  dim: number;
  /** train/<class> rows, L2-normalized */
  inliers: Float32Array;
  /** all of train/ (every class), L2-normalized */
  contrast: Float32Array;
}

export function cifarTemplateFile(): string | null {
  const env = process.env.CFSTUDIO_CIFAR_WORKSPACE;
  if (env) return fs.existsSync(env) ? env : null;
  const files = fs
    .readdirSync(os.tmpdir())
    .filter((d) => d.startsWith('cfstudio-cifar-template-'))
    .map((d) => path.join(os.tmpdir(), d))
    .filter((d) => fs.existsSync(path.join(d, 'meta.json')) && fs.existsSync(path.join(d, 'ws.cfstudio')))
    .map((d) => path.join(d, 'ws.cfstudio'))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0] ?? null;
}

/** Inliers train/<inlierClass> and contrast all of train/, or null without a CIFAR workspace. */
export async function loadMocoCifar(inlierClass: string): Promise<MocoCifar | null> {
  const template = cifarTemplateFile();
  if (!template) return null;
  // a private copy: opening a workspace may write to it
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-moco-features-'));
  const file = path.join(dir, 'ws.cfstudio');
  fs.copyFileSync(template, file);
  const ws = openWorkspace(file);
  try {
    const ex = ws.extractors.list()[0];
    if (!ex) return null;
    const train = (await resolveDataRef(ws, 'cifar-train', 'contrast')).selection;
    const all = loadSelection(ws, train, ex.id, 'contrast');
    const m = l2Normalize(all.features);
    const dim = m.cols;
    const rows = all.items.map((it, i) => (it.label === inlierClass ? i : -1)).filter((i) => i >= 0);
    if (rows.length === 0) return null;
    const inliers = new Float32Array(rows.length * dim);
    rows.forEach((r, k) => inliers.set(m.data.subarray(r * dim, (r + 1) * dim), k * dim));
    return {
      source: `MoCo CIFAR-10 features, ${inlierClass} (${rows.length}) vs all of train/ (${m.rows})`,
      dim,
      inliers,
      contrast: Float32Array.from(m.data),
    };
  } finally {
    ws.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
