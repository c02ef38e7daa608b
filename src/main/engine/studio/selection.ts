/**
 * Which items of the workspace a use case means, and their features.
 *
 * A selection is a dataset, whole or some of its labels (subfolders). The app names it by id
 * ({ datasetId, labels }: `selectionOf`); the CLI by text (`resolveDataRef`), by this rule:
 *
 *   ./x  ../x  /x  ~/x  or any text with a path separator   a folder: its dataset when the
 *                                                            folder is registered, else it is
 *                                                            scanned and added first
 *   NAME                                                     the workspace dataset NAME
 *   NAME:label1,label2                                       some of its labels; a label with a
 *                                                            comma or colon in double quotes
 *
 * A bare name is never taken for a folder of that name (a dataset named `test` and a `./test`
 * folder would otherwise be ambiguous); the error says so when such a folder exists.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ItemRow, SelectionRef, Workspace } from '../store';
import { userError } from '../util/errors';
import type { Matrix } from '../util/matrix';
import { addImageDataset, datasetForRoot, type AddDatasetResult, type ScanProgress } from './datasets';

export interface Selection {
  datasetId: number;
  datasetName: string;
  /** null = every label */
  labels: string[] | null;
}

/** `name`, or `name:l1,l2` with labels quoted when they hold a comma, colon or quote. */
export function selectionLabel(s: { datasetName: string; labels: readonly string[] | null }): string {
  if (!s.labels) return s.datasetName;
  const quote = (l: string) => (/[,:"]/.test(l) || l.trim() !== l ? `"${l.replace(/"/g, '""')}"` : l);
  return `${s.datasetName}:${s.labels.map(quote).join(',')}`;
}

/** A stored reference to `s` (the run records keep ids and labels, never the display text). */
export function toRef(s: Selection): SelectionRef {
  return { datasetId: s.datasetId, labels: s.labels, datasetName: s.datasetName };
}

/** How a stored reference reads today: the dataset's current name, or its old one if removed. */
export function refLabel(ws: Workspace, ref: SelectionRef | 'permutation' | undefined): string | null {
  if (ref === undefined) return null;
  if (ref === 'permutation') return 'permutation';
  const ds = ref.datasetId === null ? undefined : ws.datasets.get(ref.datasetId);
  const label = selectionLabel({ datasetName: ds?.name ?? ref.datasetName, labels: ref.labels });
  return ds ? label : `${label} (removed)`;
}

/** A selection by dataset id (the app's form), checked: the dataset and its labels exist. */
export function selectionOf(
  ws: Workspace,
  s: { datasetId: number; labels: readonly string[] | null },
  role: string,
): Selection {
  const d = ws.datasets.get(s.datasetId);
  if (!d)
    throw userError('dataset-missing', `${role}: dataset ${s.datasetId} does not exist`, {
      datasetId: s.datasetId,
      role,
    });
  const labels = s.labels && s.labels.length ? [...s.labels] : null;
  if (labels) checkLabels(ws, d.id, d.name, labels, role);
  return { datasetId: d.id, datasetName: d.name, labels };
}

function checkLabels(ws: Workspace, datasetId: number, name: string, labels: string[], role: string): void {
  const known = ws.items.labels(datasetId).map((l) => l.label);
  const unknown = labels.filter((l) => !known.includes(l));
  if (unknown.length)
    throw userError(
      'label-unknown',
      `${role}: dataset "${name}" has no items labelled ${unknown.map((u) => `"${u}"`).join(', ')}`,
      { dataset: name, labels: unknown, known, role },
    );
}

/** Splits `l1,"l,2",l3` on the commas outside double quotes ("" is a quote inside quotes). */
export function parseLabelList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let wasQuoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') {
      quoted = true;
      wasQuoted = true;
    } else if (c === ',') {
      out.push(wasQuoted ? cur : cur.trim());
      cur = '';
      wasQuoted = false;
    } else cur += c;
  }
  out.push(wasQuoted ? cur : cur.trim());
  return out.filter((l) => l !== '');
}

/** Whether `text` is written as a path (see the file comment's rule). */
export function looksLikePath(text: string): boolean {
  return /^(\.{1,2}|~)([\\/]|$)/.test(text) || /[\\/]/.test(text) || path.isAbsolute(text);
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

export interface ResolvedData {
  selection: Selection;
  /** how the text was read: a workspace dataset, a registered folder, or a folder scanned now */
  resolvedAs: 'dataset' | 'registered-folder' | 'new-folder';
  /** the folder scan, when the folder was added now */
  scan: AddDatasetResult | null;
}

/** A data argument of the CLI, resolved by the rule in the file comment. */
export async function resolveDataRef(
  ws: Workspace,
  text: string,
  role: string,
  hooks: { signal?: AbortSignal; onScan?: (p: ScanProgress) => void } = {},
): Promise<ResolvedData> {
  const t = text.trim();
  if (looksLikePath(t)) {
    const folder = expandHome(t);
    const stat = fs.statSync(folder, { throwIfNoEntry: false });
    if (!stat?.isDirectory())
      throw userError(
        'path-not-found',
        stat
          ? `${role}: ${text} is a file, not a folder of images`
          : `${role}: folder not found: ${text} (looked for ${path.resolve(folder)})`,
        { path: text, resolved: path.resolve(folder), role },
      );
    const known = datasetForRoot(ws, folder);
    if (known)
      return {
        selection: { datasetId: known.id, datasetName: known.name, labels: null },
        resolvedAs: 'registered-folder',
        scan: null,
      };
    const scan = await addImageDataset(ws, folder, { signal: hooks.signal, onProgress: hooks.onScan });
    return {
      selection: { datasetId: scan.dataset.id, datasetName: scan.dataset.name, labels: null },
      resolvedAs: 'new-folder',
      scan,
    };
  }
  // the whole text, else the longest dataset name followed by ':' (names may hold colons too)
  const whole = ws.datasets.byName(t);
  const prefixed = whole
    ? undefined
    : ws.datasets
        .list()
        .filter((d) => t.startsWith(`${d.name}:`))
        .sort((a, b) => b.name.length - a.name.length)[0];
  const ds = whole ?? prefixed;
  const cut = whole ? -1 : prefixed ? prefixed.name.length : t.indexOf(':');
  const name = cut < 0 ? t : t.slice(0, cut);
  if (!ds) {
    const folder = fs.statSync(name, { throwIfNoEntry: false })?.isDirectory() ? path.resolve(name) : null;
    throw userError(
      'data-ref-unknown',
      `${role}: "${name}" is not a dataset of this workspace` +
        (folder ? ` (a folder ${name} exists here, but a bare name always means a dataset)` : ''),
      { ref: name, role, known: ws.datasets.list().map((d) => d.name), folder },
    );
  }
  let labels: string[] | null = null;
  if (cut >= 0) {
    const rest = t.slice(cut + 1);
    // the whole text after the colon may be one label that holds commas
    const known = new Set(ws.items.labels(ds.id).map((l) => l.label));
    labels = known.has(rest) ? [rest] : parseLabelList(rest);
    if (labels.length === 0) labels = null;
    else checkLabels(ws, ds.id, ds.name, labels, role);
  }
  return { selection: { datasetId: ds.id, datasetName: ds.name, labels }, resolvedAs: 'dataset', scan: null };
}

export interface LoadedSelection {
  selection: Selection;
  items: ItemRow[];
  /** raw extractor output, row i = items[i] */
  features: Matrix;
}

/** The readable items of a selection and their features (which must have been extracted). */
export function loadSelection(
  ws: Workspace,
  sel: Selection,
  extractorId: number,
  role: string,
): LoadedSelection {
  const items = ws.items
    .list(sel.datasetId, { status: 'ok', labels: sel.labels ?? undefined })
    .filter((i) => i.contentHash);
  if (items.length === 0)
    throw userError('dataset-no-images', `${role}: ${selectionLabel(sel)} has no readable images`, {
      dataset: sel.datasetName,
      role,
    });
  const { dim, matrix } = ws.features.load(
    extractorId,
    items.map((i) => i.contentHash!),
  );
  return { selection: sel, items, features: { rows: items.length, cols: dim, data: matrix } };
}

/**
 * The selections whose features need extracting: a dataset once when any selection takes all of
 * it, else each distinct label subset once.
 */
export function extractionTargets(sels: readonly Selection[]): Selection[] {
  const whole = new Set(sels.filter((s) => !s.labels).map((s) => s.datasetId));
  const seen = new Set<string>();
  const out: Selection[] = [];
  for (const s of sels) {
    if (s.labels && whole.has(s.datasetId)) continue;
    const key = JSON.stringify([s.datasetId, s.labels]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}
