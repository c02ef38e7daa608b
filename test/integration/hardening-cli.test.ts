/**
 * The probes of issue 13, re-tried the same way through the real `cfstudio` CLI: each must now be
 * refused with a clear message (exit 2, `error:` and `fix:`, no internal error) and nothing may be
 * overwritten or written.
 *  - a link planted at the old predictable temp name of `score --out` (`OUT.tmp-$$` + exec);
 *  - `score --out` onto a symbolic link;
 *  - `train --inliers wide.csv --contrast permutation` with 12k and 1e6 columns;
 *  - a checksum-valid crafted .cfdet (short `center`) given to score, export, import and info;
 *  - scores that come out non-finite.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { craftCfdet } from '../fixtures/craftCfdet';
import { cli, expectOk, expectUserError, repoRoot, sharedDir } from '../helpers/cli';

const thyroid = path.join(sharedDir, 'data', 'tabular', 'thyroid.csv');
const VICTIM = 'a file the attacker wants overwritten\n';

describe.skipIf(!fs.existsSync(thyroid))('issue 13 probes through the CLI', () => {
  let dir: string;
  let table: string;
  let model: string;
  let victim: string;
  const at = (...p: string[]) => path.join(dir, ...p);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-probes-'));
    table = at('t.csv');
    fs.writeFileSync(table, fs.readFileSync(thyroid, 'utf8').split('\n').slice(0, 201).join('\n') + '\n');
    model = at('m.cfdet');
    expectOk(
      cli(
        'train',
        '--inliers',
        table,
        '--label-column',
        'label',
        '--method',
        'flow',
        '--steps',
        '30',
        '--hidden',
        '16',
        '--blocks',
        '2',
        '--out',
        model,
        '-q',
      ),
    );
    victim = at('victim.txt');
    fs.writeFileSync(victim, VICTIM);
  }, 180_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a link planted at OUT.tmp-$$ in a world-writable folder is not followed (the issue’s exact probe)', () => {
    const shared = at('world-writable');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o1777);
    const out = path.join(shared, 'out.csv');
    const script = `ln -s "$VICTIM" "$OUT.tmp-$$"; exec "$NODE" bin/cfstudio.mjs score --model "$MODEL" --input "$TABLE" --label-column label --out "$OUT"`;
    const r = spawnSync('bash', ['-c', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      env: { ...process.env, VICTIM: victim, OUT: out, NODE: process.execPath, MODEL: model, TABLE: table },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM);
    expect(fs.lstatSync(out).isFile()).toBe(true);
    expect(fs.readFileSync(out, 'utf8')).toMatch(/^row,score,log_prob,label\n1,/);
    // the planted link is still a link to the victim; no temp file is left
    const left = fs.readdirSync(shared).filter((f) => f !== 'out.csv');
    expect(left).toHaveLength(1);
    expect(fs.readlinkSync(path.join(shared, left[0]))).toBe(victim);
  });

  it('`score --out` onto a symbolic link is refused; the link and its target stay', () => {
    const out = at('link.csv');
    fs.symlinkSync(victim, out);
    const r = cli('score', '--model', model, '--input', table, '--label-column', 'label', '--out', out);
    expectUserError(r, /cannot write .*link\.csv: it is a symbolic link/);
    expect(fs.readlinkSync(out)).toBe(victim);
    expect(fs.readFileSync(victim, 'utf8')).toBe(VICTIM);
  });

  for (const cols of [12_000, 1_000_000]) {
    it(`train on ${cols.toLocaleString('en-US')} columns × 20 rows with permutation contrast: refused with the column limit`, () => {
      const file = at(`wide-${cols}.csv`);
      const fd = fs.openSync(file, 'w');
      fs.writeSync(fd, Array.from({ length: cols }, (_, c) => `f${c}`).join(',') + '\n');
      const row = Array.from({ length: cols }, (_, c) => c % 10).join(',') + '\n';
      for (let r = 0; r < 20; r++) fs.writeSync(fd, row);
      fs.closeSync(fd);
      const out = at(`wide-${cols}.cfdet`);
      const t0 = performance.now();
      const r = cli('train', '--inliers', file, '--contrast', 'permutation', '--out', out, '-q');
      expectUserError(r, `has ${cols.toLocaleString('en-US')} feature columns; CF Studio takes at most 4096`);
      expect(r.stderr).not.toMatch(/out of bounds|Invalid typed array length/);
      expect(performance.now() - t0).toBeLessThan(30_000);
      expect(fs.existsSync(out)).toBe(false);
    });
  }

  describe('a checksum-valid crafted .cfdet (short `center` array)', () => {
    let crafted: string;
    beforeAll(() => {
      crafted = at('crafted.cfdet');
      fs.writeFileSync(
        crafted,
        craftCfdet(fs.readFileSync(model), (h) => (h.preprocessing.standardizer.center.$f32[1] = 1)),
      );
    });
    const reason =
      'is not a valid CF Studio detector: preprocessing.standardizer.center has 1 values for 6 kept columns';

    it('score refuses it and writes no score list', () => {
      const out = at('crafted-scores.csv');
      expectUserError(cli('score', '--model', crafted, '--input', table, '--out', out), reason);
      expect(fs.existsSync(out)).toBe(false);
    });

    it('export to ONNX refuses it and writes no model', () => {
      const out = at('crafted.onnx');
      expectUserError(cli('export', '--model', crafted, '--format', 'onnx', '--out', out), reason);
      expect(fs.existsSync(out)).toBe(false);
    });

    it('import refuses it and adds no run; info refuses it too', () => {
      const ws = at('import.cfstudio');
      expectUserError(cli('import', crafted, '--workspace', ws), reason);
      const runs = cli('runs', 'list', '--all', '--workspace', ws);
      expect(runs.stdout + runs.stderr).toMatch(/no runs yet/);
      expectUserError(cli('info', crafted), reason);
    });
  });

  it('scores that come out non-finite are an error naming the rows, and no list is written', () => {
    const noneModel = at('none.cfdet');
    expectOk(
      cli(
        'train',
        '--inliers',
        table,
        '--label-column',
        'label',
        '--method',
        'flow',
        '--preprocess',
        'none',
        '--steps',
        '20',
        '--hidden',
        '16',
        '--blocks',
        '2',
        '--out',
        noneModel,
        '-q',
      ),
    );
    const lines = fs.readFileSync(table, 'utf8').trim().split('\n').slice(0, 6);
    const cols = lines[0].split(',');
    // row 3: every feature at the edge of float32 (the parser accepts it; the flow overflows)
    lines[3] = cols.map((c) => (c === 'label' ? '0' : '3.4e38')).join(',');
    const extreme = at('extreme.csv');
    fs.writeFileSync(extreme, lines.join('\n') + '\n');
    const out = at('extreme-scores.csv');
    const r = cli('score', '--model', noneModel, '--input', extreme, '--label-column', 'label', '--out', out);
    expectUserError(r, /gave no valid score for 1 of 5 rows of .*extreme\.csv \(NaN or infinite; rows 3\)/);
    expect(fs.existsSync(out)).toBe(false);
  });
});
