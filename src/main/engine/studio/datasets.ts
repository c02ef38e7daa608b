/**
 * Image folders as workspace datasets: scan (content sniffing, hashing, unreadable files kept
 * with their reason) and record the items. Adding the same folder again rescans it: new files
 * are added, changed ones updated, deleted ones removed; features stay cached by content hash.
 * Also what a front end shows of datasets: the list, one dataset's detail and its items.
 */
import fs from 'node:fs';
import path from 'node:path';
import { scanFolder, type ScanProblem, type ScannedItem } from '../data/images';
import type { DatasetRow, DatasetSummary, Workspace } from '../store';
import { UserError, userError } from '../util/errors';
import { invalidateRunViews } from './runViewCache';

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
    throw userError(
      'dataset-name-taken',
      `a dataset named "${dataset.name}" already exists for another folder (${dataset.root})`,
      { name: dataset.name, root: dataset.root },
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

export interface LabelCount {
  label: string;
  count: number;
}

export interface DatasetInfo {
  id: number;
  name: string;
  kind: 'image' | 'tabular';
  root: string;
  created: string;
  /** readable images */
  ok: number;
  /** files skipped (unreadable, not images, …) */
  skipped: number;
  /** readable images per subfolder label ('' = files directly in the root) */
  labels: LabelCount[];
}

export interface DatasetDetail extends DatasetInfo {
  skippedFiles: { relPath: string; reason: string }[];
  /** per extractor of the workspace: how many readable images have its features */
  features: { extractorId: number; extractor: string; withFeatures: number; of: number }[];
}

function info(ws: Workspace, d: DatasetSummary): DatasetInfo {
  return {
    id: d.id,
    name: d.name,
    kind: d.kind,
    root: d.root,
    created: d.created,
    ok: d.ok,
    skipped: d.unreadable,
    // readable images only: what a run can use
    labels: ws.items.labels(d.id, { status: 'ok' }),
  };
}

export function listDatasets(ws: Workspace): DatasetInfo[] {
  return ws.datasets.list().map((d) => info(ws, d));
}

/** A dataset by id or by name. */
export function findDataset(ws: Workspace, ref: number | string, role = 'dataset'): DatasetRow {
  const d = typeof ref === 'number' ? ws.datasets.get(ref) : ws.datasets.byName(ref);
  if (d) return d;
  if (typeof ref === 'number')
    throw userError('dataset-missing', `${role}: dataset ${ref} does not exist`, { datasetId: ref, role });
  throw userError('data-ref-unknown', `no dataset named "${ref}" in this workspace`, {
    ref,
    role,
    known: ws.datasets.list().map((x) => x.name),
    folder: null,
  });
}

/** A dataset with its skipped files (plus `extraSkipped`, e.g. a scan's folder problems) and feature coverage. */
export function datasetDetail(
  ws: Workspace,
  ref: number | string,
  extraSkipped: { relPath: string; reason: string }[] = [],
): DatasetDetail {
  const row = findDataset(ws, ref);
  const d = ws.datasets.list().find((x) => x.id === row.id)!;
  const items = ws.items.list(d.id);
  const hashes = [
    ...new Set(items.filter((i) => i.status === 'ok' && i.contentHash).map((i) => i.contentHash!)),
  ];
  return {
    ...info(ws, d),
    skippedFiles: [
      ...items
        .filter((i) => i.status !== 'ok')
        .map((i) => ({ relPath: i.relPath, reason: i.reason ?? 'unreadable' })),
      ...extraSkipped,
    ],
    features: ws.extractors.list().map((e) => ({
      extractorId: e.id,
      extractor: e.name,
      withFeatures: hashes.length - ws.features.missing(e.id, hashes).length,
      of: hashes.length,
    })),
  };
}

export interface DatasetItem {
  id: number;
  datasetId: number;
  relPath: string;
  label: string;
  width: number | null;
  height: number | null;
}

/** A page of a dataset's readable items (optionally of one label). */
export function datasetItems(
  ws: Workspace,
  id: number,
  page: { offset: number; limit: number; label?: string | null },
): { total: number; items: DatasetItem[] } {
  findDataset(ws, id);
  const items = ws.items.list(id, {
    status: 'ok',
    labels: page.label === null || page.label === undefined ? undefined : [page.label],
  });
  return {
    total: items.length,
    items: items.slice(page.offset, page.offset + page.limit).map((i) => ({
      id: i.id,
      datasetId: i.datasetId,
      relPath: i.relPath,
      label: i.label,
      width: i.width,
      height: i.height,
    })),
  };
}

/** Removes a dataset (not its files); its cached features stay, keyed by image content. */
export function removeDataset(ws: Workspace, ref: number | string): DatasetRow {
  const d = findDataset(ws, ref);
  ws.datasets.remove(d.id);
  // runs keep their history, but their ranked lists lose the items of this dataset
  invalidateRunViews(ws);
  return d;
}
