/**
 * The layering rules of eslint.config.js (docs/DESIGN.md "Layout"), checked through ESLint's Node API on
 * virtual files: lintText() with a filePath picks the config for that path without the file existing.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: root });
});

/** Messages of the layering rule for `code` placed at `filePath`. */
async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layering (no-restricted-imports per folder)', () => {
  it('reports electron imported by an engine file', async () => {
    const errors = await layeringErrors(
      'src/main/engine/x.ts',
      "import { app } from 'electron';\nexport { app };\n",
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Electron-free/);
  });

  it('reports a Node built-in imported by a renderer file', async () => {
    const errors = await layeringErrors('src/renderer/src/x.ts', "import fs from 'fs';\nexport { fs };\n");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/no Node built-ins/);
  });

  it('allows electron in src/main/ipc/index.ts, and the IPC handlers in the preview', async () => {
    expect(
      await layeringErrors('src/main/ipc/index.ts', "import { app } from 'electron';\nexport { app };\n"),
    ).toEqual([]);
    expect(
      await layeringErrors('src/main/preview/server.ts', "export { S } from '../ipc/handlers';\n"),
    ).toEqual([]);
  });

  it('allows electron in src/main/index.ts', async () => {
    expect(
      await layeringErrors('src/main/index.ts', "import { app } from 'electron';\nexport { app };\n"),
    ).toEqual([]);
  });

  it.each([
    ['src/main/engine/x.ts', "export { h } from '../ipc/handlers';"],
    ['src/main/engine/data/x.ts', "export { w } from '../../index';"],
    ['src/renderer/src/x.ts', "export { f } from 'node:fs/promises';"],
    ['src/renderer/src/views/x.ts', "export { s } from '../../../main/engine/flow/spec';"],
    ['src/preload/index.ts', "export { z } from 'zod';"],
    ['src/shared/x.ts', "export { r } from '../renderer/src/main';"],
    ['src/main/engine/features/x.ts', "import Database from 'better-sqlite3';\nexport { Database };"],
    ['src/main/ipc/x.ts', "import Database from 'better-sqlite3';\nexport { Database };"],
    ['src/main/cli/x.ts', "import { app } from 'electron';\nexport { app };"],
    ['src/main/cli/x.ts', "export { h } from '../ipc/handlers';"],
    // the IPC handlers and the preview run in plain Node too: no electron, no renderer
    ['src/main/ipc/handlers.ts', "import { app } from 'electron';\nexport { app };"],
    ['src/main/preview/server.ts', "import { app } from 'electron';\nexport { app };"],
    ['src/main/preview/server.ts', "export { x } from '../../renderer/src/main';"],
    ['src/main/preview/x.ts', "import Database from 'better-sqlite3';\nexport { Database };"],
  ])('reports %s importing %s', async (filePath, code) => {
    expect(await layeringErrors(filePath, code)).toHaveLength(1);
  });

  it.each([
    ['src/main/engine/data/x.ts', "export { a } from '../ipc/x';"], // resolves to engine/ipc, not main/ipc
    ['src/main/ipc/x.ts', "export { s } from '../engine/flow/spec';"],
    [
      'src/preload/index.ts',
      "export { contextBridge } from 'electron';\nexport type { AppInfo } from '../shared/ipc';",
    ],
    ['src/renderer/src/x.ts', "export type { AppInfo } from '../../shared/ipc';\nexport { ref } from 'vue';"],
    ['src/main/engine/store/repos/x.ts', "import Database from 'better-sqlite3';\nexport { Database };"],
    ['src/main/cli/x.ts', "export { s } from '../engine/store';"],
  ])('allows %s importing %s', async (filePath, code) => {
    expect(await layeringErrors(filePath, code)).toEqual([]);
  });

  it('checks the <script> of .vue files in the renderer', async () => {
    const sfc = '<template><p /></template>\n<script setup lang="ts">\nimport fs from \'fs\';\n</script>\n';
    const [result] = await eslint.lintText(sfc, { filePath: 'src/renderer/src/components/X.vue' });
    expect(result.messages.map((m) => [m.ruleId, m.line])).toEqual([['no-restricted-imports', 3]]);
  });
});
