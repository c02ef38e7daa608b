/**
 * The rules of .dependency-cruiser.cjs (../shared/docs/DESIGN.md "Layout"), checked for real: a throwaway project in a
 * temp folder mirrors the paths of src/ with small files that import each other (and stub `electron`, `zod`,
 * `better-sqlite3` packages), and dependency-cruiser's Node API cruises it with the project's own rules.
 * The violations must be exactly the expected ones: each rule reports what it should, the allowed imports
 * pass.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IConfiguration, ICruiseResult, IViolation } from 'dependency-cruiser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const config = createRequire(import.meta.url)(path.join(root, '.dependency-cruiser.cjs')) as IConfiguration;

const ts = (...imports: string[]) => `${imports.join('\n')}\nexport const here = 1;\n`;

/** The throwaway project: path → contents. */
const FILES: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'layering-fixture',
    private: true,
    dependencies: { 'better-sqlite3': '*', electron: '*', zod: '*' },
  }),
  'tsconfig.json': JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true },
    include: ['src/**/*.ts'],
  }),
  ...Object.fromEntries(
    ['better-sqlite3', 'electron', 'zod'].flatMap((name) => [
      [`node_modules/${name}/package.json`, JSON.stringify({ name, version: '1.0.0', main: 'index.js' })],
      [`node_modules/${name}/index.js`, 'module.exports = {};\n'],
    ]),
  ),

  // engine: folders in order, the lowest first
  'src/main/engine/util/x.ts': ts(),
  'src/main/engine/util/a.ts': ts("import { here as b } from './b';", 'export const a = b;'),
  'src/main/engine/util/b.ts': ts("import { a } from './a';", 'export const b = a;'),
  'src/main/engine/flow/x.ts': ts("import { here } from '../util/x';"),
  'src/main/engine/flow/usesElectron.ts': ts("import { app } from 'electron';"),
  'src/main/engine/flow/up.ts': ts("import { here } from '../train/y';"),
  'src/main/engine/train/x.ts': ts("import { here } from '../flow/x';"),
  'src/main/engine/train/y.ts': ts(),
  'src/main/engine/features/db.ts': ts("import Database from 'better-sqlite3';"),
  'src/main/engine/detector/x.ts': ts("import { here } from '../eval/x';"),
  'src/main/engine/eval/x.ts': ts(),
  'src/main/engine/store/x.ts': ts("import Database from 'better-sqlite3';"),
  'src/main/engine/studio/api.ts': ts(
    "import { here } from '../store/x';",
    "import { here as t } from '../train/x';",
  ),

  // front ends: only engine/studio and engine/util
  'src/main/cli/ok.ts': ts(
    "import { here } from '../engine/studio/api';",
    "import { here as u } from '../engine/util/x';",
  ),
  'src/main/cli/x.ts': ts("import { here } from '../engine/store/x';"),
  'src/main/ipc/types.ts': ts("import type { here } from '../engine/detector/x';"),
  'src/main/ipc/handlers.ts': ts(
    "import { ipcMain } from 'electron';",
    "import { here } from '../engine/studio/api';",
  ),
  'src/main/ipc/index.ts': ts("import { ipcMain } from 'electron';", "import { here } from './handlers';"),

  // preload, renderer, shared
  'src/preload/index.ts': ts(
    "import { contextBridge } from 'electron';",
    "import type { Api } from '../shared/ipc';",
  ),
  'src/preload/bad.ts': ts("import { z } from 'zod';"),
  'src/renderer/src/x.ts': ts(
    "import { readFileSync } from 'node:fs';",
    "import type { Api } from '../../shared/ipc';",
  ),
  'src/renderer/src/views/y.ts': ts("import { here } from '../../../main/engine/util/x';"),
  'src/renderer/src/components/Panel.vue':
    '<script setup lang="ts">\nimport { readFileSync } from \'node:fs\';\nconst f = readFileSync;\n</script>\n\n<template><p>{{ f }}</p></template>\n',
  'src/shared/ipc.ts': 'export interface Api { ping(): void }\n',
  'src/shared/bad.ts': ts("import { z } from 'zod';"),
};

let dir: string;
let violations: IViolation[];

/**
 * "rule: from → to", paths relative to the project root (`node:fs` resolves to `fs`). A cycle is reported
 * once, from one of its files: its key is "no-circular: a ↔ b" with the files of the cycle sorted.
 */
const key = (v: Pick<IViolation, 'from' | 'to' | 'cycle'> & { rule: { name: string } }) =>
  v.cycle
    ? `${v.rule.name}: ${[...new Set([v.from, ...v.cycle.map((c) => c.name)])].sort().join(' ↔ ')}`
    : `${v.rule.name}: ${v.from} → ${v.to}`;
const expected = (rule: string, from: string, to: string) => key({ rule: { name: rule }, from, to });
const cycle = (...files: string[]) => `no-circular: ${files.sort().join(' ↔ ')}`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfstudio-layering-'));
  for (const [file, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  const { cruise } = await import('dependency-cruiser');
  const { default: extractTSConfig } = await import('dependency-cruiser/config-utl/extract-ts-config');
  const tsConfigFile = path.join(dir, 'tsconfig.json');
  const result = await cruise(
    ['src'],
    {
      ...config.options,
      baseDir: dir,
      tsConfig: { fileName: tsConfigFile },
      ruleSet: { forbidden: config.forbidden },
      validate: true,
    },
    {},
    { tsConfig: extractTSConfig(tsConfigFile) },
  );
  violations = (result.output as ICruiseResult).summary.violations;
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('dependency-cruiser rules (.dependency-cruiser.cjs)', () => {
  it('reports a two-file cycle once, naming both files', () => {
    expect(violations.filter((v) => v.rule.name === 'no-circular').map(key)).toEqual([
      cycle('src/main/engine/util/a.ts', 'src/main/engine/util/b.ts'),
    ]);
  });

  it('cruises the whole fixture, .vue files included', () => {
    expect(violations.map(key)).toContain(
      expected('renderer-no-node-builtins', 'src/renderer/src/components/Panel.vue', 'fs'),
    );
  });

  it.each([
    [
      'engine → electron',
      'engine-no-electron',
      'src/main/engine/flow/usesElectron.ts',
      'node_modules/electron/index.js',
    ],
    [
      'engine folder order: detector → eval',
      'engine-order-detector',
      'src/main/engine/detector/x.ts',
      'src/main/engine/eval/x.ts',
    ],
    [
      'engine folder order: flow → train',
      'engine-order-flow',
      'src/main/engine/flow/up.ts',
      'src/main/engine/train/y.ts',
    ],
    ['cli → engine/store', 'front-ends-use-studio', 'src/main/cli/x.ts', 'src/main/engine/store/x.ts'],
    [
      'ipc → engine/detector, type-only',
      'front-ends-use-studio',
      'src/main/ipc/types.ts',
      'src/main/engine/detector/x.ts',
    ],
    [
      'ipc/handlers.ts → electron',
      'electron-free-main',
      'src/main/ipc/handlers.ts',
      'node_modules/electron/index.js',
    ],
    ['renderer → node:fs', 'renderer-no-node-builtins', 'src/renderer/src/x.ts', 'fs'],
    [
      'renderer → src/main',
      'renderer-not-to-main',
      'src/renderer/src/views/y.ts',
      'src/main/engine/util/x.ts',
    ],
    ['shared → zod', 'shared-self-contained', 'src/shared/bad.ts', 'node_modules/zod/index.js'],
    ['preload → zod', 'preload-only-electron-shared', 'src/preload/bad.ts', 'node_modules/zod/index.js'],
    [
      'better-sqlite3 outside the store',
      'sql-only-in-store',
      'src/main/engine/features/db.ts',
      'node_modules/better-sqlite3/index.js',
    ],
  ])('reports %s', (_what, rule, from, to) => {
    expect(violations.map(key)).toContain(expected(rule, from, to));
  });

  it.each([
    ['cli → engine/studio and engine/util', 'src/main/cli/ok.ts'],
    ['engine/studio → engine/store, engine/train', 'src/main/engine/studio/api.ts'],
    ['engine/train → engine/flow', 'src/main/engine/train/x.ts'],
    ['ipc/index.ts → electron', 'src/main/ipc/index.ts'],
    ['preload → electron + shared', 'src/preload/index.ts'],
    ['store → better-sqlite3', 'src/main/engine/store/x.ts'],
  ])('allows %s', (_what, from) => {
    expect(violations.filter((v) => v.from === from).map(key)).toEqual([]);
  });

  it('reports nothing else', () => {
    expect(violations.map(key).sort()).toEqual(
      [
        expected('renderer-no-node-builtins', 'src/renderer/src/components/Panel.vue', 'fs'),
        expected(
          'engine-no-electron',
          'src/main/engine/flow/usesElectron.ts',
          'node_modules/electron/index.js',
        ),
        expected('engine-order-detector', 'src/main/engine/detector/x.ts', 'src/main/engine/eval/x.ts'),
        expected('engine-order-flow', 'src/main/engine/flow/up.ts', 'src/main/engine/train/y.ts'),
        cycle('src/main/engine/util/a.ts', 'src/main/engine/util/b.ts'),
        expected('front-ends-use-studio', 'src/main/cli/x.ts', 'src/main/engine/store/x.ts'),
        expected('front-ends-use-studio', 'src/main/ipc/types.ts', 'src/main/engine/detector/x.ts'),
        expected('electron-free-main', 'src/main/ipc/handlers.ts', 'node_modules/electron/index.js'),
        expected('renderer-no-node-builtins', 'src/renderer/src/x.ts', 'fs'),
        expected('renderer-not-to-main', 'src/renderer/src/views/y.ts', 'src/main/engine/util/x.ts'),
        expected('shared-self-contained', 'src/shared/bad.ts', 'node_modules/zod/index.js'),
        expected('preload-only-electron-shared', 'src/preload/bad.ts', 'node_modules/zod/index.js'),
        expected(
          'sql-only-in-store',
          'src/main/engine/features/db.ts',
          'node_modules/better-sqlite3/index.js',
        ),
      ].sort(),
    );
  });

  it('generates the engine order rules from one list, each saying which folders it may not import', () => {
    const order = (config.forbidden ?? []).filter((r) => r.name?.startsWith('engine-order-'));
    expect(order.map((r) => r.name)).toEqual(
      [
        'util',
        'backend',
        'data',
        'features',
        'flow',
        'train',
        'baselines',
        'detector',
        'model',
        'eval',
        'export',
        'store',
        'jobs',
      ].map((f) => `engine-order-${f}`),
    );
    const detector = order.find((r) => r.name === 'engine-order-detector');
    expect(detector?.comment).toMatch(
      /^engine folders import one way: .*engine\/detector may not import engine\/\{model,eval,export,store,jobs,studio\}/,
    );
  });
});
