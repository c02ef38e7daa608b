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
import type { Detector } from '../detector/types';
import type { ExtractorRow, Workspace } from '../store';
import { userError } from '../util/errors';

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
    throw userError(
      'extractor-name-taken',
      `an extractor named "${name}" already exists for another model file (${clash.path})`,
      { name, path: clash.path },
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
    if (all.length === 0) throw userError('extractor-none', 'no feature extractor in this workspace yet', {});
    throw userError('extractor-ambiguous', `this workspace has ${all.length} extractors; say which one`, {
      names: all.map((e) => e.name),
    });
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
  throw userError(
    'extractor-unknown',
    `unknown extractor "${ref}": not an extractor of this workspace, not a file, not a catalog entry`,
    { ref, known: all.map((e) => e.name) },
  );
}

function checkFile(e: ExtractorRow): { extractor: ExtractorRow; warnings: string[] } {
  if (!fs.existsSync(e.path)) {
    throw userError('extractor-file-gone', `the model file of extractor "${e.name}" is gone: ${e.path}`, {
      name: e.name,
      path: e.path,
    });
  }
  return { extractor: e, warnings: [] };
}

/** The input spec stored with an extractor, validated (the workspace file may be old or edited). */
export function extractorSpec(e: ExtractorRow): ExtractorInputSpec {
  return parseInputSpec(e.inputSpec, `the input spec of extractor "${e.name}" in the workspace`);
}

export interface ExtractorInfo {
  id: number;
  name: string;
  path: string;
  sha256: string;
  spec: ExtractorInputSpec;
  /** the model file is on disk */
  available: boolean;
}

export function extractorInfo(e: ExtractorRow): ExtractorInfo {
  return {
    id: e.id,
    name: e.name,
    path: e.path,
    sha256: e.fileHash,
    spec: extractorSpec(e),
    available: fs.existsSync(e.path),
  };
}

export function listExtractors(ws: Workspace): ExtractorInfo[] {
  return ws.extractors.list().map(extractorInfo);
}

/** An extractor by id (the app's form): it must exist and its model file must be on disk. */
export function extractorById(ws: Workspace, id: number): ExtractorRow {
  const e = ws.extractors.get(id);
  if (!e) throw userError('extractor-id-missing', `extractor ${id} does not exist`, { extractorId: id });
  return checkFile(e).extractor;
}

/** The workspace extractor an image detector was trained on (matched by the model's sha256). */
export function extractorForDetector(ws: Workspace, det: Detector, source: string): ExtractorRow {
  const meta = det.meta.extractor;
  if (!meta)
    throw userError('detector-not-for-images', `${source} was trained on table features, not on images`, {
      source,
    });
  const e = ws.extractors.byHash(meta.sha256);
  if (!e)
    throw userError(
      'extractor-not-in-workspace',
      `${source} needs the extractor "${meta.name}" (sha256 ${meta.sha256.slice(0, 12)}…), which this workspace does not have`,
      { name: meta.name, sha256: meta.sha256, source },
    );
  return e;
}
