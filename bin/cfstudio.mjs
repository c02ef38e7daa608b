#!/usr/bin/env node
// `cfstudio` command line. In a source checkout it runs the TypeScript engine through tsx (no build
// step needed). Without the sources, or with CFSTUDIO_COMPILED=1, it runs the compiled CLI that
// `npm run build` writes (out/main/cli.js, with its workers next to it), as the packaged app does
// (`<app> --cli …`, see src/main/index.ts): no tsx at run time.
import { existsSync } from 'node:fs';

const source = new URL('../src/main/cli.ts', import.meta.url);
const compiled = new URL('../out/main/cli.js', import.meta.url);

async function load() {
  if (process.env.CFSTUDIO_COMPILED !== '1' && existsSync(source)) {
    const { register } = await import('tsx/esm/api');
    register();
    return import(source.href);
  }
  if (!existsSync(compiled)) {
    process.stderr.write(
      'error: the compiled command line is missing (out/main/cli.js)\n  fix: npm run build\n',
    );
    process.exit(2);
  }
  return import(compiled.href);
}

const { main } = await load();
process.exitCode = await main(process.argv);
