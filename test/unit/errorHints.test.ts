/**
 * Errors carry a code and data; advice that depends on the front end is written by the front
 * end. Checked on the source (TypeScript's parser): no UserError raised in the engine names a
 * CLI command or flag, or an app control; every code has a hint in both front ends' tables, and
 * the hints use the error's real values.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CLI_HINTS } from '../../src/main/cli/hints';
import { APP_HINTS } from '../../src/main/ipc/hints';
import { hintFor, userError, type ErrorCode } from '../../src/main/engine/util/errors';

const engine = path.resolve(__dirname, '../../src/main/engine');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Text of the string literals and templates inside each `new UserError(…)` / `userError(…)`. */
function errorTexts(file: string): { line: number; text: string }[] {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { line: number; text: string }[] = [];
  const texts = (n: ts.Node, acc: string[]) => {
    if (ts.isStringLiteralLike(n)) acc.push(n.text);
    else if (ts.isTemplateExpression(n)) {
      acc.push(n.head.text);
      for (const s of n.templateSpans) acc.push(s.literal.text);
    }
    n.forEachChild((c) => texts(c, acc));
  };
  const visit = (n: ts.Node) => {
    const callee = ts.isNewExpression(n) || ts.isCallExpression(n) ? n.expression.getText(src) : null;
    if (callee === 'UserError' || callee === 'userError') {
      const acc: string[] = [];
      // the code (first argument of userError) is an identifier-like string, not text for users
      const args = [...((n as ts.CallExpression).arguments ?? [])].slice(callee === 'userError' ? 1 : 0);
      for (const a of args) texts(a, acc);
      out.push({ line: src.getLineAndCharacterOfPosition(n.getStart()).line + 1, text: acc.join(' ') });
    }
    n.forEachChild(visit);
  };
  visit(src);
  return out;
}

const FRONT_END_WORDS = /\bcfstudio [a-z]|(^|[\s("'`])--[a-z]|\bbutton\b|\bclick\b|\bmenu\b/i;

describe('engine errors name no front end', () => {
  const all = sourceFiles(engine).flatMap((f) =>
    errorTexts(f).map((e) => ({ ...e, where: `${path.relative(engine, f)}:${e.line}` })),
  );

  it('finds the engine’s errors (the scan works)', () => {
    expect(all.length).toBeGreaterThan(150);
    expect(all.some((e) => /needs contrast data/.test(e.text))).toBe(true);
  });

  it('no message or hint raised in the engine mentions a CLI command, a flag or an app control', () => {
    const offenders = all.filter((e) => FRONT_END_WORDS.test(e.text)).map((e) => `${e.where}: ${e.text}`);
    expect(offenders).toEqual([]);
  });
});

describe('each front end advises on every coded error, with the real values', () => {
  const codes = Object.keys({
    'data-ref-unknown': 0,
    'path-not-found': 0,
    'dataset-missing': 0,
    'dataset-no-images': 0,
    'dataset-name-taken': 0,
    'label-unknown': 0,
    'run-missing': 0,
    'run-no-model': 0,
    'run-no-held-out': 0,
    'run-follows-parent': 0,
    'item-not-scored': 0,
    'extractor-none': 0,
    'extractor-ambiguous': 0,
    'extractor-unknown': 0,
    'extractor-id-missing': 0,
    'extractor-file-gone': 0,
    'extractor-name-taken': 0,
    'extractor-not-in-workspace': 0,
    'method-needs-contrast': 0,
    'permutation-contrast-on-images': 0,
    'too-few-inliers': 0,
    'method-not-exportable': 0,
    'detector-not-for-images': 0,
    'output-folder-missing': 0,
    'workspace-foreign': 0,
    'workspace-newer': 0,
    'auto-eps-too-few-held-out': 0,
    'run-not-retrainable': 0,
    'no-feedback': 0,
  } satisfies Record<Exclude<ErrorCode, 'invalid-input'>, 0>);

  it.each(codes)('%s has a CLI hint and an app hint', (code) => {
    expect(CLI_HINTS[code as ErrorCode]).toBeTypeOf('function');
    expect(APP_HINTS[code as ErrorCode]).toBeTypeOf('function');
  });

  it('hints carry the values of the error (no placeholder NAME)', () => {
    const e = userError('data-ref-unknown', 'x', { ref: 'test', role: 'data', known: [], folder: '/p/test' });
    expect(hintFor(e, CLI_HINTS)).toBe('to use the folder, write it as a path: ./test');
    const gone = userError('extractor-file-gone', 'x', { name: 'moco', path: '/m/moco.onnx' });
    expect(hintFor(gone, CLI_HINTS)).toMatch(/cfstudio extractor add FILE.onnx --name moco$/);
    expect(hintFor(gone, APP_HINTS)).toMatch(/Import \.onnx… to register "moco"/);
    const noImages = userError('dataset-no-images', 'x', { dataset: 'deer', role: 'inliers' });
    expect(hintFor(noImages, CLI_HINTS)).toBe('check the folder with: cfstudio dataset show deer');
    for (const table of [CLI_HINTS, APP_HINTS])
      for (const code of codes) {
        const hint = (table[code as ErrorCode] as (d: unknown) => string)({
          ref: 'R',
          role: 'r',
          known: ['K'],
          folder: null,
          path: '/p',
          resolved: '/p',
          datasetId: 1,
          dataset: 'D',
          name: 'N',
          root: '/r',
          labels: ['L'],
          runId: 1,
          method: 'cf',
          status: 'done',
          parentRunId: 2,
          itemId: 3,
          names: ['A'],
          extractorId: 4,
          sha256: 'abcdef0123456789',
          source: 'S',
          label: 'CF',
          selection: 'sel',
          count: 1,
          min: 20,
          file: '/f',
          version: 9,
          heldOut: 1,
        });
        expect(hint).not.toMatch(/\bNAME\b|undefined|\[object/);
      }
  });
});
