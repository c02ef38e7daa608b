/**
 * CSV formula injection (issue 13), through the real CLI on real CIFAR-10 images: label folders
 * named `=HYPERLINK("x")`, `@SUM(1+1)`, `+1+1` and `-2+3` come out of `cfstudio score --input
 * FOLDER --out r.csv` with a leading apostrophe (OWASP), so a spreadsheet shows them instead of
 * running them, while numeric cells such as negative scores stay plain numbers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cifarDir, cifarMissing, mocoModel } from '../helpers/cifarWorkspace';
import { cliWith } from '../helpers/cli';

const LABELS = ['=HYPERLINK("x")', '@SUM(1+1)', '+1+1', '-2+3', 'plain'];

describe.skipIf(cifarMissing)('score lists escape spreadsheet formulas in label folders', () => {
  let dir: string;
  let rows: Record<string, string>[];
  let text: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-csvinj-'));
    const inliers = path.join(dir, 'inliers');
    const input = path.join(dir, 'input');
    fs.mkdirSync(inliers);
    for (let i = 0; i < 30; i++) {
      const name = `${String(i).padStart(4, '0')}.jpg`;
      fs.copyFileSync(path.join(cifarDir, 'train', 'deer', name), path.join(inliers, name));
    }
    LABELS.forEach((label, i) => {
      fs.mkdirSync(path.join(input, label), { recursive: true });
      fs.copyFileSync(path.join(cifarDir, 'train', 'cat', `010${i}.jpg`), path.join(input, label, 'a.jpg'));
    });
    const ws = path.join(dir, 'ws.cfstudio');
    const run = (...args: string[]) => {
      const r = cliWith({ timeoutMs: 180_000 }, ...args, '--workspace', ws);
      expect(r.status, r.stderr).toBe(0);
    };
    run('extractor', 'add', mocoModel, '--name', 'moco', '-q');
    // a tiny flow: its log_prob column holds the negative numbers that must stay numbers
    const model = path.join(dir, 'm.cfdet');
    run(
      'train',
      '--inliers',
      inliers,
      '--method',
      'flow',
      '--steps',
      '20',
      '--hidden',
      '16',
      '--blocks',
      '2',
      '--out',
      model,
      '-q',
    );
    run('score', '--model', model, '--input', input, '--out', path.join(dir, 'r.csv'), '-q');
    text = fs.readFileSync(path.join(dir, 'r.csv'), 'utf8');
    rows = parse(text, { columns: true }) as Record<string, string>[];
  }, 600_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every label folder is listed once', () => {
    expect(rows).toHaveLength(LABELS.length);
    expect(Object.keys(rows[0])).toContain('label');
  });

  it('labels starting with = @ + - get a leading apostrophe; a plain label is left alone', () => {
    const labels = rows.map((r) => r.label).sort();
    expect(labels).toEqual(["'+1+1", "'-2+3", '\'=HYPERLINK("x")', "'@SUM(1+1)", 'plain']);
    // what a spreadsheet would read as a formula never starts a cell
    for (const line of text.split('\n').slice(1))
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=@+]/);
  });

  it('numbers stay numbers: negative scores and log-densities are not escaped', () => {
    const numeric = rows.flatMap((r) => [r.score, r.log_prob]).filter((v) => v !== undefined && v !== '');
    expect(numeric.length).toBeGreaterThan(0);
    expect(numeric.some((v) => v.startsWith('-'))).toBe(true);
    for (const v of numeric) expect(Number.isFinite(Number(v)), v).toBe(true);
  });
});
