/**
 * The `cfstudio` command line, end to end: spawns the real CLI (bin/cfstudio.mjs through tsx)
 * on small seeded CSVs written to a temp dir, and checks exit codes (0 ok, 2 user error, never
 * 1 for bad input), messages (`error:` + the named detail, no stack trace) and outputs.
 * Training is kept tiny (--steps 30 --hidden 16 --blocks 2) because the wasm backend is slow.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, expectOk, expectUserError, type Run } from '../helpers/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfs-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const TINY = ['--steps', '30', '--hidden', '16', '--blocks', '2'];
const SEED = 7;

// ---------- seeded data ----------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
}
function rows(n: number, cols: number, seed: number, shift = 0): number[][] {
  const g = gaussian(mulberry32(seed));
  return Array.from({ length: n }, () => Array.from({ length: cols }, () => g() + shift));
}
function csv(header: string[], data: (number | string)[][]): string {
  return (
    [
      header.join(','),
      ...data.map((r) => r.map((v) => (typeof v === 'number' ? v.toFixed(5) : v)).join(',')),
    ].join('\n') + '\n'
  );
}
function file(name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

const COLS = ['f0', 'f1', 'f2', 'f3'];
const N_NORMAL_TEST = 15;
const N_FAR_TEST = 10;
let inliers: string; // 200 × 4 normal rows
let testFile: string; // 15 normal rows, then 10 rows shifted by +50 in every column
let labelled: string; // 200 normal (label 0) + 20 anomalies (label 1)
let model: string; // flow model trained once in beforeAll

beforeAll(() => {
  inliers = file('inliers.csv', csv(COLS, rows(200, 4, 1)));
  testFile = file('test.csv', csv(COLS, [...rows(N_NORMAL_TEST, 4, 2), ...rows(N_FAR_TEST, 4, 3, 50)]));
  labelled = file(
    'labelled.csv',
    csv(
      [...COLS, 'label'],
      [...rows(200, 4, 4).map((r) => [...r, '0']), ...rows(20, 4, 5, 2.5).map((r) => [...r, '1'])],
    ),
  );
  model = path.join(dir, 'flow.cfdet');
  const r = cli(
    'train',
    '--inliers',
    inliers,
    '--method',
    'flow',
    ...TINY,
    '--seed',
    String(SEED),
    '--out',
    model,
  );
  expectOk(r);
});

function readScores(p: string): { header: string; rows: number[][] } {
  const lines = fs.readFileSync(p, 'utf8').trimEnd().split('\n');
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

// ---------- tests ----------

describe('cfstudio help and info', () => {
  it('--help exits 0 and lists the commands', () => {
    const r = cli('--help');
    expectOk(r);
    for (const c of ['train', 'score', 'eval', 'info'])
      expect(r.stdout).toMatch(new RegExp(`^\\s+${c}\\b`, 'm'));
  });

  it('info names the running backend and the ones tried; info --json has training.backend', () => {
    const j = cli('info', '--json');
    expectOk(j);
    const info = JSON.parse(j.stdout) as {
      training: {
        backend: string;
        package: string;
        attempts: { name: string; ok: boolean; reason?: string }[];
      };
    };
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.training.backend);
    // no native tfjs package is installed on this machine: the wasm backend runs
    expect(info.training.backend).toBe('wasm');
    expect(info.training.attempts.length).toBeGreaterThanOrEqual(2);
    const ok = info.training.attempts.filter((a) => a.ok);
    expect(ok.map((a) => a.name)).toEqual([info.training.package]);
    for (const a of info.training.attempts.filter((x) => !x.ok)) expect(a.reason ?? '').not.toBe('');

    const t = cli('info');
    expectOk(t);
    expect(t.stdout).toMatch(new RegExp(`training backend: ${info.training.backend}\\b`));
    for (const a of info.training.attempts) expect(t.stdout).toContain(a.name);
    expect(t.stdout).toMatch(/tried/);
  });
});

describe('train → score round trip', () => {
  it('writes a .cfdet whose info shows method, seed, data hash and backend', () => {
    expect(fs.statSync(model).size).toBeGreaterThan(100);
    expect(fs.readFileSync(model).subarray(0, 5).toString('latin1')).toBe('CFDET');
    const r = cli('info', model, '--json');
    expectOk(r);
    const s = JSON.parse(r.stdout) as {
      method: string;
      seed: number;
      dataHashes: { inliers: string };
      backend: { backend: string } | null;
      inputColumns: string[];
      rows: { inliers: number };
    };
    expect(s.method).toBe('flow');
    expect(s.seed).toBe(SEED);
    expect(s.dataHashes.inliers).toMatch(/^[0-9a-f]{64}$/);
    expect(s.backend?.backend).toBe('wasm');
    expect(s.inputColumns).toEqual(COLS);
    expect(s.rows.inliers).toBe(200);
  });

  it('score writes row,score,log_prob with one finite line per row, deterministically; far rows score higher', () => {
    const out1 = path.join(dir, 'scores1.csv');
    const out2 = path.join(dir, 'scores2.csv');
    const r1 = cli('score', '--model', model, '--input', testFile, '--out', out1);
    expectOk(r1);
    expect(r1.stdout).toContain(`scored ${N_NORMAL_TEST + N_FAR_TEST} rows`);
    const { header, rows: sc } = readScores(out1);
    expect(header).toBe('row,score,log_prob');
    expect(sc.length).toBe(N_NORMAL_TEST + N_FAR_TEST);
    sc.forEach((r, i) => {
      expect(r.length).toBe(3);
      expect(r[0]).toBe(i + 1);
      expect(Number.isFinite(r[1])).toBe(true);
      expect(Number.isFinite(r[2])).toBe(true);
      expect(r[1]).toBeCloseTo(-r[2], 4); // flow score = −log p
    });

    const r2 = cli('score', '--model', model, '--input', testFile, '--out', out2);
    expectOk(r2);
    expect(fs.readFileSync(out2, 'utf8')).toBe(fs.readFileSync(out1, 'utf8'));

    const normal = sc.slice(0, N_NORMAL_TEST).map((r) => r[1]);
    const far = sc.slice(N_NORMAL_TEST).map((r) => r[1]);
    expect(Math.min(...far)).toBeGreaterThan(Math.max(...normal));
  });

  it('trains --method cf --contrast permutation and --method knn', () => {
    const cf = path.join(dir, 'cf.cfdet');
    expectOk(
      cli('train', '--inliers', inliers, '--method', 'cf', '--contrast', 'permutation', ...TINY, '--out', cf),
    );
    const ci = cli('info', cf, '--json');
    expectOk(ci);
    const cs = JSON.parse(ci.stdout) as { method: string; rows: { contrastKind: string }; eps: unknown };
    expect(cs.method).toBe('cf');
    expect(cs.rows.contrastKind).toBe('permutation');
    expect(cs.eps).not.toBeNull();

    const knn = path.join(dir, 'knn.cfdet');
    expectOk(cli('train', '--inliers', inliers, '--method', 'knn', '--out', knn));
    const ki = cli('info', knn, '--json');
    expectOk(ki);
    const ks = JSON.parse(ki.stdout) as {
      method: string;
      flows: unknown[];
      baseline: { kind: string } | null;
    };
    expect(ks.method).toBe('knn');
    expect(ks.flows).toEqual([]);
    expect(ks.baseline?.kind).toBe('knn');
  });

  it('--method cf without --contrast is a user error naming contrast', () => {
    const out = path.join(dir, 'nocontrast.cfdet');
    expectUserError(cli('train', '--inliers', inliers, '--method', 'cf', ...TINY, '--out', out), /contrast/);
    expect(fs.existsSync(out)).toBe(false);
  });
});

describe('eval', () => {
  it('prints an AUROC table and writes JSON with one AUROC per seed', () => {
    const json = path.join(dir, 'out.json');
    const r = cli(
      'eval',
      '--data',
      labelled,
      '--label-column',
      'label',
      '--methods',
      'mse,knn',
      '--seeds',
      '2',
      '--json',
      json,
    );
    expectOk(r);
    expect(r.stdout).toMatch(/AUROC/);
    const res = JSON.parse(fs.readFileSync(json, 'utf8')) as {
      methods: { method: string; aurocs: number[]; mean: number }[];
    };
    expect(res.methods.map((m) => m.method)).toEqual(['mse', 'knn']);
    for (const m of res.methods) {
      expect(m.aurocs).toHaveLength(2);
      for (const a of m.aurocs) {
        expect(a).toBeGreaterThanOrEqual(0);
        expect(a).toBeLessThanOrEqual(1);
      }
      // anomalies are shifted by +2.5 σ in every column: both detectors separate them well
      expect(m.mean).toBeGreaterThan(0.9);
    }
    // the printed table agrees with the JSON
    for (const [label, m] of [
      ['MSE', res.methods[0]],
      ['KNN', res.methods[1]],
    ] as const) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(label + ' '));
      expect(line, r.stdout).toBeTruthy();
      expect(line).toContain((m.mean * 100).toFixed(1));
    }
  });
});

describe('bad input: exit 2 with a clear message, never a stack trace', () => {
  const out = () => path.join(dir, 'never.cfdet');

  it('missing inliers file names the path', () => {
    const missing = path.join(dir, 'does-not-exist.csv');
    expectUserError(
      cli('train', '--inliers', missing, '--method', 'mse', '--out', out()),
      'does-not-exist.csv',
      /not found/i,
    );
    expect(fs.existsSync(out())).toBe(false);
  });

  it('empty file', () => {
    expectUserError(
      cli('train', '--inliers', file('empty.csv', ''), '--method', 'mse', '--out', out()),
      'empty.csv',
      /empty/i,
    );
  });

  it('non-numeric cell names the line and the column', () => {
    const data: (number | string)[][] = rows(20, 4, 6);
    data[4][1] = 'abc'; // data row 5 = line 6 (header is line 1)
    const r = cli(
      'train',
      '--inliers',
      file('nonnum.csv', csv(COLS, data)),
      '--method',
      'mse',
      '--out',
      out(),
    );
    expectUserError(r, /line 6\b/, 'f1', 'abc');
  });

  it('NaN cell', () => {
    const data: (number | string)[][] = rows(20, 4, 7);
    data[9][2] = 'NaN'; // line 11
    const r = cli('train', '--inliers', file('nan.csv', csv(COLS, data)), '--method', 'mse', '--out', out());
    expectUserError(r, /line 11\b/, 'f2', 'NaN');
  });

  it('Inf cell', () => {
    const data: (number | string)[][] = rows(20, 4, 8);
    data[2][3] = 'Inf'; // line 4
    const r = cli('train', '--inliers', file('inf.csv', csv(COLS, data)), '--method', 'mse', '--out', out());
    expectUserError(r, /line 4\b/, 'f3', /infinite/i);
  });

  it('one constant column is not an error for train (it is dropped); all-constant columns are', () => {
    const data = rows(200, 4, 9).map((r) => [r[0], r[1], 3.5, r[3]]);
    const constFile = file('const1.csv', csv(COLS, data));
    const m = path.join(dir, 'const1.cfdet');
    const r = cli('train', '--inliers', constFile, '--method', 'flow', ...TINY, '--out', m);
    expectOk(r);
    expect(r.stderr).toMatch(/f2.*constant|constant.*f2/);
    expect(fs.existsSync(m)).toBe(true);
    const scores = path.join(dir, 'const1-scores.csv');
    expectOk(cli('score', '--model', m, '--input', constFile, '--out', scores));
    const sc = readScores(scores).rows;
    expect(sc).toHaveLength(200);
    for (const row of sc) expect(Number.isFinite(row[1])).toBe(true);

    const allConst = file(
      'constall.csv',
      csv(
        COLS,
        Array.from({ length: 50 }, () => [1, 2, 3, 4]),
      ),
    );
    expectUserError(cli('train', '--inliers', allConst, '--method', 'mse', '--out', out()), /constant/i);
    expect(fs.existsSync(out())).toBe(false);
  });

  it('a CSV with only 1 data row', () => {
    const one = file('one.csv', csv(COLS, rows(1, 4, 10)));
    expectUserError(
      cli('train', '--inliers', one, '--method', 'mse', '--out', out()),
      /\b1 data row\b/,
      /at least 2/,
    );
  });

  it('--label-column nope lists the available columns', () => {
    const r = cli('train', '--inliers', inliers, '--label-column', 'nope', '--method', 'mse', '--out', out());
    expectUserError(r, 'nope', ...COLS.map((c) => `"${c}"`));
  });

  it('scoring a file with a different column count names both counts', () => {
    const three = file('three-cols.csv', csv(['f0', 'f1', 'f2'], rows(10, 3, 11)));
    const scores = path.join(dir, 'never-scores.csv');
    const r = cli('score', '--model', model, '--input', three, '--out', scores);
    expectUserError(r);
    const msg = r.stderr.split(dir).join('<dir>');
    expect(msg).toMatch(/\b3\b/);
    expect(msg).toMatch(/\b4\b/);
    expect(fs.existsSync(scores)).toBe(false);
  });

  it('unknown --method foo lists the methods', () => {
    const r = cli('train', '--inliers', inliers, '--method', 'foo', '--out', out());
    expectUserError(
      r,
      'foo',
      ...['cf', 'flow', 'mse', 'knn', 'kde', 'pca'].map((m) => new RegExp(`\\b${m}\\b`)),
    );
  });

  it('--steps -5', () => {
    const r = cli('train', '--inliers', inliers, '--method', 'flow', '--steps', '-5', '--out', out());
    expectUserError(r, '--steps');
    expect(fs.existsSync(out())).toBe(false);
  });
});

describe('model file errors: exit 2 with a clear message', () => {
  function scoreWith(modelBytes: Buffer | string, name: string): { r: Run; scores: string } {
    const m = file(name, modelBytes);
    const scores = path.join(dir, `${name}.scores.csv`);
    return { r: cli('score', '--model', m, '--input', testFile, '--out', scores), scores };
  }
  const good = () => fs.readFileSync(model);

  it('truncated .cfdet is damaged', () => {
    const b = good();
    const { r, scores } = scoreWith(b.subarray(0, b.length - 100), 'truncated.cfdet');
    expectUserError(r, 'damaged');
    expect(fs.existsSync(scores)).toBe(false);
  });

  it('one flipped byte in the middle is damaged', () => {
    const b = Buffer.from(good());
    b[Math.floor(b.length / 2)] ^= 0x5a;
    const { r, scores } = scoreWith(b, 'flipped.cfdet');
    expectUserError(r, 'damaged');
    expect(fs.existsSync(scores)).toBe(false);
  });

  it('a PNG or a text file renamed .cfdet is not a CF Studio detector', () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(300, 7)]);
    expectUserError(scoreWith(png, 'image.cfdet').r, 'not a CF Studio detector');
    const text = 'f0,f1,f2,f3\n' + '1,2,3,4\n'.repeat(20);
    expectUserError(scoreWith(text, 'text.cfdet').r, 'not a CF Studio detector');
  });

  it('a newer format version (checksum recomputed) says newer', () => {
    const b = Buffer.from(good());
    b.writeUInt32LE(99, 8);
    const body = b.subarray(0, b.length - 32);
    createHash('sha256')
      .update(body)
      .digest()
      .copy(b, b.length - 32);
    const { r, scores } = scoreWith(b, 'newer.cfdet');
    expectUserError(r, 'newer');
    expect(fs.existsSync(scores)).toBe(false);
  });
});
