/**
 * `npm run preview`: builds nothing itself (run `npm run build` first, or use `npm start`), starts
 * the browser preview on 127.0.0.1 and prints the URL to open. Stops on Ctrl-C.
 *
 *   node bin/run-ts.mjs src/main/preview/main.ts [--workspace FILE] [--port N] [--allow-typed-paths]
 *
 * --allow-typed-paths (or CFSTUDIO_PREVIEW_TYPED_PATHS=1): the page may name paths without a
 * dialog (typed in a prompt, or queued with POST /__preview/dialog); see server.ts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultWorkspacePath } from '../engine/studio';
import { UserError } from '../engine/util/errors';
import { startPreviewServer } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
try {
  const workspaceFile = arg('--workspace') ?? process.env.CFSTUDIO_WORKSPACE ?? defaultWorkspacePath();
  const server = await startPreviewServer({
    workspaceFile,
    outDir: path.join(root, 'out'),
    port: arg('--port') ? Number(arg('--port')) : 0,
    allowTypedPaths:
      process.argv.includes('--allow-typed-paths') || process.env.CFSTUDIO_PREVIEW_TYPED_PATHS === '1',
  });
  console.log(
    `CF Studio browser preview (workspace ${workspaceFile})\n\n  open: ${server.url}\n\n` +
      `The link works once (it signs this browser in). Ctrl-C stops the preview.`,
  );
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (e) {
  if (e instanceof UserError) {
    console.error(`error: ${e.message}${e.hint ? `\n  ${e.hint}` : ''}`);
    process.exit(2);
  }
  throw e;
}
