/**
 * Which items of the workspace a command means: `NAME` (a whole dataset) or `NAME:label1,label2`
 * (some of its classes, i.e. subfolders), and the feature matrix of those items for an extractor.
 */
import path from 'node:path';
import type { ItemRow, Workspace } from '../store';
import { UserError } from '../util/errors';
import type { Matrix } from '../util/matrix';

export interface Selection {
  datasetId: number;
  datasetName: string;
  /** null = every label */
  labels: string[] | null;
}

/** Parses `NAME[:l1,l2]` against the workspace; errors list what exists. */
export function parseSelection(ws: Workspace, text: string, what: string): Selection {
  const m = /^([^:]+)(?::(.*))?$/.exec(text.trim());
  const name = m?.[1] ?? '';
  const ds = ws.datasets.byName(name);
  if (!ds && /[\\/]/.test(text)) {
    throw new UserError(
      `${what}: folder not found: "${text}" (looked for ${path.resolve(text)})`,
      'check the path (a dataset name has no slashes; list them with: cfstudio dataset list)',
    );
  }
  if (!ds) {
    const names = ws.datasets.list().map((d) => d.name);
    throw new UserError(
      `${what}: "${text}" is neither a folder nor a dataset of this workspace`,
      names.length
        ? `datasets here: ${names.join(', ')} (NAME or NAME:label1,label2); or pass a folder path`
        : 'add one with: cfstudio dataset add FOLDER --name NAME, or pass a folder path',
    );
  }
  const labels = m?.[2]
    ? m[2]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : null;
  if (labels) {
    const known = new Set(ws.items.labels(ds.id).map((l) => l.label));
    const unknown = labels.filter((l) => !known.has(l));
    if (unknown.length) {
      throw new UserError(
        `${what}: dataset "${ds.name}" has no items labelled ${unknown.map((u) => `"${u}"`).join(', ')}`,
        `its labels (subfolder names): ${[...known].join(', ') || '(none: the images are not in subfolders)'}`,
      );
    }
  }
  return { datasetId: ds.id, datasetName: ds.name, labels };
}

export function selectionLabel(s: Selection): string {
  return s.labels ? `${s.datasetName}:${s.labels.join(',')}` : s.datasetName;
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
  what: string,
): LoadedSelection {
  const items = ws.items
    .list(sel.datasetId, { status: 'ok', labels: sel.labels ?? undefined })
    .filter((i) => i.contentHash);
  if (items.length === 0) {
    throw new UserError(
      `${what}: ${selectionLabel(sel)} has no readable images`,
      'check the folder with: cfstudio dataset show NAME',
    );
  }
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
    const key = `${s.datasetId}:${s.labels?.join(',') ?? '*'}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}
