/**
 * Where the app's `resources/` folder (extractor catalog, icons, demo assets) is at run time.
 *
 * `CFSTUDIO_RESOURCES` overrides it (packaged apps, tests). Otherwise the folder is found by
 * walking up from this module's own location until a folder holds both `package.json` and
 * `resources/`: that works from the sources (src/main/engine/features/), from the bundle
 * (out/main/) and from tsx or vitest alike, whatever the current working directory is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../util/errors';

let cached: string | undefined;

export function resourcesDir(): string {
  const env = process.env.CFSTUDIO_RESOURCES;
  if (env) return path.resolve(env);
  if (cached) return cached;
  const start = path.dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources'))) {
      cached = path.join(dir, 'resources');
      return cached;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new UserError(
    `Cannot find the app's resources folder (looked upwards from ${start})`,
    'Set CFSTUDIO_RESOURCES to the folder that holds extractors.json.',
  );
}

/** A file inside the resources folder. */
export function resourcePath(...parts: string[]): string {
  return path.join(resourcesDir(), ...parts);
}
