/**
 * Data references: the rule that turns the CLI's text into a selection (a bare name is a
 * dataset, a path is a folder), label lists with commas, colons and quotes, and selections that
 * survive the run record unchanged.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDetectorConfig } from '../../src/main/engine/detector/config';
import {
  openWorkspace,
  parseLabelList,
  resolveDataRef,
  selectionLabel,
  selectionOf,
  type Workspace,
} from '../../src/main/engine/studio';
import { toRef } from '../../src/main/engine/studio/selection';
import { UserError } from '../../src/main/engine/util/errors';

const images = path.resolve(__dirname, '../fixtures/workspace-v2/files/incoming');
let dir: string;
let ws: Workspace;
const LABELS = ['a,b', 'c:d', 'say "hi"', 'plain'];

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-sel-'));
  ws = openWorkspace(path.join(dir, 'ws.cfstudio'));
  for (const name of ['weird', 'odd:name']) {
    const d = ws.datasets.create({ name, kind: 'image', root: path.join(dir, name) });
    ws.items.upsertMany(
      d.id,
      LABELS.map((label, i) => ({
        relPath: `${label}/${i}.png`,
        label,
        contentHash: `h${i}`,
        width: 8,
        height: 8,
        format: 'png',
        bytes: 1,
        mtimeMs: 0,
        status: 'ok' as const,
        reason: null,
      })),
    );
  }
});

afterAll(() => {
  ws.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function refError(text: string): Promise<UserError> {
  try {
    await resolveDataRef(ws, text, 'inliers');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error(`${text} resolved`);
}

describe('label lists', () => {
  it('split on commas outside double quotes; "" is a quote inside quotes', () => {
    expect(parseLabelList('a, b ,c')).toEqual(['a', 'b', 'c']);
    expect(parseLabelList('"a,b",c:d,"say ""hi"""')).toEqual(['a,b', 'c:d', 'say "hi"']);
    expect(parseLabelList('" padded "')).toEqual([' padded ']);
    expect(parseLabelList('')).toEqual([]);
  });

  it('every label set reads back from its display text (selectionLabel → resolveDataRef)', async () => {
    const weird = ws.datasets.byName('weird')!;
    const odd = ws.datasets.byName('odd:name')!;
    for (const labels of [[LABELS[0]], [LABELS[1]], [LABELS[2]], LABELS, null])
      for (const d of [weird, odd]) {
        const sel = selectionOf(ws, { datasetId: d.id, labels }, 'inliers');
        const text = selectionLabel(sel);
        const back = await resolveDataRef(ws, text, 'inliers');
        expect([text, back.selection]).toEqual([text, sel]);
        expect(back.resolvedAs).toBe('dataset');
      }
    expect(selectionLabel({ datasetName: 'weird', labels: ['a,b', 'plain'] })).toBe('weird:"a,b",plain');
  });

  it('a label that holds a comma may also be written bare when it is a label of the dataset', async () => {
    expect((await resolveDataRef(ws, 'weird:a,b', 'inliers')).selection.labels).toEqual(['a,b']);
    expect((await resolveDataRef(ws, 'weird:c:d', 'inliers')).selection.labels).toEqual(['c:d']);
  });

  it('unknown labels are named, with the dataset’s labels in the data', async () => {
    const e = await refError('weird:plain,nope');
    expect(e.code).toBe('label-unknown');
    expect(e.data).toEqual({
      dataset: 'weird',
      labels: ['nope'],
      known: [...LABELS].sort(),
      role: 'inliers',
    });
  });

  it('selections keep their labels through a run record', () => {
    const d = ws.datasets.byName('weird')!;
    const sel = selectionOf(ws, { datasetId: d.id, labels: ['a,b', 'c:d', 'say "hi"'] }, 'inliers');
    const id = ws.runs.create({
      kind: 'train',
      method: 'cf',
      config: defaultDetectorConfig('cf', 'l2'),
      extractorId: null,
      selections: { inliers: toRef(sel), contrast: 'permutation' },
      parentRunId: null,
    });
    expect(ws.runs.get(id)!.selections).toEqual({
      inliers: { datasetId: d.id, labels: ['a,b', 'c:d', 'say "hi"'], datasetName: 'weird' },
      contrast: 'permutation',
    });
    expect(ws.runs.get(id)!.inlierDatasetId).toBe(d.id);
  });
});

describe('the data reference rule', () => {
  it('a bare name is a dataset, never a folder of that name; the error says how to name the folder', async () => {
    const cwd = process.cwd();
    fs.mkdirSync(path.join(dir, 'photos'));
    process.chdir(dir);
    try {
      const e = await refError('photos');
      expect(e.code).toBe('data-ref-unknown');
      expect(e.message).toMatch(/"photos" is not a dataset .*a folder photos exists here/);
      expect(e.data).toMatchObject({ ref: 'photos', folder: path.join(dir, 'photos') });
      expect(ws.datasets.byName('photos')).toBeUndefined();
      const none = await refError('nothing-here');
      expect(none.data).toMatchObject({ folder: null, known: ['odd:name', 'weird'] });
    } finally {
      process.chdir(cwd);
    }
  });

  it('a path is a folder: scanned and added on first use, the same dataset afterwards', async () => {
    const copy = path.join(dir, 'incoming');
    fs.cpSync(images, copy, { recursive: true });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const first = await resolveDataRef(ws, './incoming', 'input');
      expect(first.resolvedAs).toBe('new-folder');
      expect(first.scan!.ok).toBe(10);
      expect(first.selection).toMatchObject({ datasetName: 'incoming', labels: null });
      const again = await resolveDataRef(ws, copy, 'input');
      expect(again).toMatchObject({ resolvedAs: 'registered-folder', selection: first.selection });
      // and by its dataset name
      expect((await resolveDataRef(ws, 'incoming', 'input')).selection).toEqual(first.selection);
      const missing = await refError('./nope');
      expect(missing.code).toBe('path-not-found');
      expect(missing.data).toMatchObject({ resolved: path.join(dir, 'nope') });
    } finally {
      process.chdir(cwd);
    }
  });
});
