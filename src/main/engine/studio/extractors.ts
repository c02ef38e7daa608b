/**
 * Feature extractors in a workspace: registering an ONNX image model (its input spec resolved
 * from a spec file, a sidecar, its metadata, our catalog or its input shape, then checked
 * against the model by loading it once) and finding the one a command means.
 */
import fs from 'node:fs';
import path from 'node:path';
import {
  describeFeatureOutput,
  ensureCatalogModel,
  findCatalogEntry,
  listCatalog,
  type DownloadProgress,
} from '../features';
import { OnnxExtractor, type ExtractorOutput } from '../features/onnxExtractor';
import { resolveExtractorSpec } from '../features/resolveSpec';
import { diffInputSpecs, parseInputSpec, type ExtractorInputSpec } from '../features/inputSpec';

/** The resize mode in words, e.g. `center-crop 0.875 (shorter side to 256, centre 224×224)`. */
export { formatResize } from '../features/inputSpec';
import type { Detector } from '../detector/types';
import type { ExtractorRow, Workspace } from '../store';
import { UserError, userError } from '../util/errors';

export interface RegisteredExtractor {
  extractor: ExtractorRow;
  /** the spec as stored: a symbolic outputName ("@penultimate") is replaced by its tensor */
  spec: ExtractorInputSpec;
  specSource: string;
  dim: number;
  /** the feature tensor: its name, the symbol it came from, internal or not, its shape, flattened or not */
  output: ExtractorOutput & { dim: number };
  /** `output` in one sentence, for the user */
  outputNote: string;
  /** the catalog entry that was downloaded (or found verified in the models folder), if any */
  downloaded: { entryId: string; file: string } | null;
  warnings: string[];
}

export interface RegisterExtractorOptions {
  name?: string;
  specFile?: string;
  spec?: unknown;
  signal?: AbortSignal;
  /** progress of a catalog download */
  onDownload?: (p: DownloadProgress) => void;
}

/**
 * Registers `model`: the path of an .onnx file, or the id or alias of a catalog entry with a
 * verified download (fetched into the workspace's models folder, checked against its sha256,
 * reused when already there). The extractor's identity is the sha256 of the model file as given,
 * also when its spec reads an internal tensor (the model is never rewritten on disk).
 */
export async function registerExtractor(
  ws: Workspace,
  model: string,
  opts: RegisterExtractorOptions = {},
): Promise<RegisteredExtractor> {
  let file = path.resolve(model);
  let downloaded: RegisteredExtractor['downloaded'] = null;
  if (!fs.existsSync(file)) {
    const entry = findCatalogEntry(model);
    if (entry) {
      file = await ensureCatalogModel(entry.id, modelsDir(ws), {
        signal: opts.signal,
        onProgress: opts.onDownload,
      });
      downloaded = { entryId: entry.id, file };
    } else if (!/[/\\]/.test(model) && !/\.onnx$/i.test(model)) {
      throw new UserError(
        `"${model}" is neither a model file nor an extractor of the catalog`,
        `Catalog extractors: ${listCatalog()
          .map((e) => (e.aliases.length ? `${e.id} (also ${e.aliases.join(', ')})` : e.id))
          .join('; ')}. Or give the path of an .onnx file.`,
      );
    }
  }
  const r = await resolveExtractorSpec(file, { specFile: opts.specFile, spec: opts.spec });
  // loading checks that the model is an image model matching the spec (clear error otherwise),
  // adds an internal feature tensor as an output, and runs one blank image to check its shape
  const ex = await OnnxExtractor.load(file, r.spec);
  const dim = ex.dim;
  // the symbol (e.g. "@penultimate") was resolved by resolveExtractorSpec; the load saw its tensor
  const output = { ...ex.output, symbol: r.output.symbol, consumer: r.output.consumer, dim };
  await ex.release();
  const outputNote = describeFeatureOutput(output, output);
  const name = opts.name ?? downloaded?.entryId ?? r.catalogId ?? path.basename(file).replace(/\.onnx$/i, '');
  const clash = ws.extractors.byName(name);
  if (clash && clash.fileHash !== r.sha256) {
    throw userError(
      'extractor-name-taken',
      `an extractor named "${name}" already exists for another model file (${clash.path})`,
      { name, path: clash.path },
    );
  }
  refuseSpecChange(ws, r.sha256, r.spec);
  const extractor = ws.extractors.upsert({ name, fileHash: r.sha256, path: file, inputSpec: r.spec });
  return {
    extractor,
    spec: r.spec,
    specSource: r.source,
    dim,
    output,
    outputNote,
    downloaded,
    warnings: r.warnings,
  };
}

function modelsDir(ws: Workspace): string {
  return path.join(path.dirname(ws.file), 'models');
}

/**
 * A workspace holds one extractor per model file (detectors find theirs by the file's sha256), and
 * its features are cached under it: registering the file again may rename it or change
 * l2Normalize (applied by the detector, not stored), but a spec that changes the raw features
 * (another output tensor, size, normalization, resize) would leave the cache holding features of
 * the old spec, so it is refused once features exist.
 */
function refuseSpecChange(ws: Workspace, sha256: string, spec: ExtractorInputSpec): void {
  const existing = ws.extractors.byHash(sha256);
  if (!existing || ws.features.count(existing.id) === 0) return;
  let changed: string[];
  try {
    changed = diffInputSpecs(extractorSpec(existing), spec).filter((k) => k !== 'l2Normalize');
  } catch {
    changed = ['its stored spec is unreadable'];
  }
  if (changed.length === 0) return;
  throw new UserError(
    `This model file is already the extractor "${existing.name}" of this workspace, with features ` +
      `extracted under another spec (it differs in ${changed.join(', ')})`,
    'A workspace holds one extractor per model file, and its cached features belong to the spec they were ' +
      'extracted with. Register the model with its old spec, or use another workspace file for the new one.',
  );
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
  // a catalog id or alias (`moco` is the paper's default extractor), downloaded when it can be
  const entry = findCatalogEntry(ref);
  if (entry) {
    const r = await registerExtractor(ws, entry.id, { signal: opts.signal, onDownload: opts.onDownload });
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
