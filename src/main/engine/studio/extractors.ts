/**
 * Feature extractors in a workspace: registering an ONNX image model (its input spec resolved
 * from a spec file, a sidecar, its metadata, our catalog or its input shape, then checked
 * against the model by loading it once) and finding the one a command means.
 */
import fs from 'node:fs';
import path from 'node:path';
import { findCatalogEntry, ensureCatalogModel, type DownloadProgress } from '../features';
import { OnnxExtractor } from '../features/onnxExtractor';
import { resolveExtractorSpec } from '../features/resolveSpec';
import { parseInputSpec, type ExtractorInputSpec } from '../features/inputSpec';
import type { ExtractorRow, Workspace } from '../store';
import { UserError } from '../util/errors';

export interface RegisteredExtractor {
  extractor: ExtractorRow;
  spec: ExtractorInputSpec;
  specSource: string;
  dim: number;
  warnings: string[];
}

export async function registerExtractor(
  ws: Workspace,
  modelFile: string,
  opts: { name?: string; specFile?: string; spec?: unknown } = {},
): Promise<RegisteredExtractor> {
  const file = path.resolve(modelFile);
  const r = await resolveExtractorSpec(file, { specFile: opts.specFile, spec: opts.spec });
  // loading checks that the model is an image model matching the spec (clear error otherwise)
  const ex = await OnnxExtractor.load(file, r.spec);
  const dim = ex.dim;
  await ex.release();
  const name = opts.name ?? r.catalogId ?? path.basename(file).replace(/\.onnx$/i, '');
  const clash = ws.extractors.byName(name);
  if (clash && clash.fileHash !== r.sha256) {
    throw new UserError(
      `an extractor named "${name}" already exists for another model file (${clash.path})`,
      'pick another --name',
    );
  }
  const extractor = ws.extractors.upsert({ name, fileHash: r.sha256, path: file, inputSpec: r.spec });
  return { extractor, spec: r.spec, specSource: r.source, dim, warnings: r.warnings };
}

/** Short names for catalog entries: `moco` is the paper's default extractor. */
const CATALOG_ALIASES: Record<string, string> = { moco: 'moco-v2-r50-imagenet' };

function modelsDir(ws: Workspace): string {
  return path.join(path.dirname(ws.file), 'models');
}

/**
 * `ref` = a workspace extractor name, a path to an .onnx file (registered on first use), or a
 * catalog id (downloaded into the workspace's models folder, checked against its sha256).
 * Without `ref`: the workspace's only extractor.
 */
export async function resolveExtractor(
  ws: Workspace,
  ref: string | undefined,
  opts: { signal?: AbortSignal; onDownload?: (p: DownloadProgress) => void } = {},
): Promise<{ extractor: ExtractorRow; warnings: string[] }> {
  const all = ws.extractors.list();
  if (!ref) {
    if (all.length === 1) return checkFile(all[0]);
    throw new UserError(
      all.length === 0
        ? 'no feature extractor in this workspace yet'
        : `this workspace has ${all.length} extractors; say which one`,
      all.length === 0
        ? 'add one: cfstudio extractor add MODEL.onnx --name moco (or pass --extractor FILE.onnx)'
        : `use --extractor with one of: ${all.map((e) => e.name).join(', ')}`,
    );
  }
  const byName = ws.extractors.byName(ref);
  if (byName) return checkFile(byName);
  if (fs.existsSync(ref) && fs.statSync(ref).isFile()) {
    const r = await registerExtractor(ws, ref);
    return { extractor: r.extractor, warnings: r.warnings };
  }
  const entry = findCatalogEntry(CATALOG_ALIASES[ref] ?? ref);
  if (entry) {
    const file = await ensureCatalogModel(entry.id, modelsDir(ws), {
      signal: opts.signal,
      onProgress: opts.onDownload,
    });
    const r = await registerExtractor(ws, file, { name: entry.id });
    return { extractor: r.extractor, warnings: r.warnings };
  }
  throw new UserError(
    `unknown extractor "${ref}": not an extractor of this workspace, not a file, not a catalog entry`,
    `workspace extractors: ${all.map((e) => e.name).join(', ') || '(none)'}; add a model with: cfstudio extractor add MODEL.onnx`,
  );
}

function checkFile(e: ExtractorRow): { extractor: ExtractorRow; warnings: string[] } {
  if (!fs.existsSync(e.path)) {
    throw new UserError(
      `the model file of extractor "${e.name}" is gone: ${e.path}`,
      `put it back, or register it again from its new place: cfstudio extractor add FILE --name ${e.name}`,
    );
  }
  return { extractor: e, warnings: [] };
}

/** The input spec stored with an extractor, validated (the workspace file may be old or edited). */
export function extractorSpec(e: ExtractorRow): ExtractorInputSpec {
  return parseInputSpec(e.inputSpec, `the input spec of extractor "${e.name}" in the workspace`);
}
