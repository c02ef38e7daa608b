/**
 * Image folders as workspace datasets: scan (content sniffing, hashing, unreadable files kept
 * with their reason) and record the items. Adding the same folder again rescans it: new files
 * are added, changed ones updated, deleted ones removed; features stay cached by content hash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanFolder, type ScanProblem, type ScannedItem } from '../data/images';
import type { DatasetRow, Workspace } from '../store';
import { UserError } from '../util/errors';

export interface ScanProgress {
  phase: 'scan';
  found: number;
  checked: number;
  ok: number;
  skipped: number;
}

export interface AddDatasetResult {
  dataset: DatasetRow;
  created: boolean;
  ok: number;
  unreadable: { relPath: string; reason: string }[];
  problems: ScanProblem[];
  labels: { label: string; count: number }[];
  seconds: number;
}

/** A name not used by another dataset: the folder's name, else parent-folder, else folder-2, -3 … */
function freeName(ws: Workspace, root: string): string {
  const base = path.basename(root) || 'dataset';
  const tries = [base, `${path.basename(path.dirname(root))}-${base}`];
  for (let i = 2; ; i++) {
    const name = tries.shift() ?? `${base}-${i}`;
    if (!ws.datasets.byName(name)) return name;
  }
}

/** The dataset already registered for this folder, if any. */
export function datasetForRoot(ws: Workspace, root: string): DatasetRow | undefined {
  const real = realFolder(root);
  return ws.datasets.list().find((d) => d.root === real);
}

function realFolder(root: string): string {
  try {
    return fs.realpathSync(root);
  } catch {
    return path.resolve(root);
  }
}

export async function addImageDataset(
  ws: Workspace,
  folder: string,
  opts: {
    name?: string;
    signal?: AbortSignal;
    onProgress?: (p: ScanProgress) => void;
    pixelLimit?: number;
  } = {},
): Promise<AddDatasetResult> {
  const t0 = performance.now();
  const scan = await scanFolder(folder, {
    signal: opts.signal,
    pixelLimit: opts.pixelLimit,
    onProgress: (p) => opts.onProgress?.({ phase: 'scan', ...p }),
  });
  let dataset = opts.name ? ws.datasets.byName(opts.name) : datasetForRoot(ws, scan.root);
  if (dataset && dataset.root !== scan.root) {
    throw new UserError(
      `a dataset named "${dataset.name}" already exists for another folder (${dataset.root})`,
      'pick another --name, or remove the old dataset first (cfstudio dataset remove NAME)',
    );
  }
  if (dataset && dataset.kind !== 'image') {
    throw new UserError(`dataset "${dataset.name}" is a ${dataset.kind} dataset, not an image dataset`);
  }
  const created = !dataset;
  const items = scan.items;
  ws.transaction(() => {
    dataset ??= ws.datasets.create({
      name: opts.name ?? freeName(ws, scan.root),
      kind: 'image',
      root: scan.root,
    });
    ws.items.upsertMany(dataset.id, items.map(toNewItem));
    ws.items.removeMissing(
      dataset.id,
      items.map((i) => i.relPath),
    );
  });
  const ds = dataset!;
  return {
    dataset: ds,
    created,
    ok: items.filter((i) => i.status === 'ok').length,
    unreadable: items
      .filter((i) => i.status !== 'ok')
      .map((i) => ({ relPath: i.relPath, reason: i.reason ?? 'unreadable' })),
    problems: scan.problems,
    labels: ws.items.labels(ds.id),
    seconds: (performance.now() - t0) / 1000,
  };
}

function toNewItem(i: ScannedItem) {
  return {
    relPath: i.relPath,
    label: i.label,
    contentHash: i.contentHash,
    width: i.width,
    height: i.height,
    format: i.format,
    bytes: i.bytes,
    mtimeMs: i.mtimeMs,
    status: i.status,
    reason: i.reason,
  };
}
