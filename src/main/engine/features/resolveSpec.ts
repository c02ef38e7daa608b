/**
 * Finds the input spec of an extractor model file, first match wins:
 *
 *   1. an explicit spec file (`specFile`),
 *   2. a sidecar next to the model: `<model>.onnx.json`, then `<model>.json`,
 *   3. the model's ONNX metadata_props key `cfstudio.input_spec` (JSON),
 *   4. the catalog entry with the model's sha256,
 *   5. inferred from the model's first input shape ([N, 3, H, W] → NCHW, [N, H, W, 3] → NHWC) and
 *      first output, with 0..1 scaling and no mean/std — a guess, reported as a warning.
 *
 * `overrides` are applied last, on top of whichever source won. Why this order: what the user wrote
 * for this file beats what the file says about itself, which beats what we know about its hash.
 *
 * The spec's `outputName` is then looked up in the model's graph (graphOutput.ts): a symbol such
 * as "@penultimate" is replaced by the tensor it stands for, and a name that is no tensor of the
 * graph is refused here, before any session is created.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { findCatalogEntryBySha256, type CatalogOptions } from './catalog';
import { fileReadError } from './fileErrors';
import {
  readGraphStructure,
  resolveFeatureOutput,
  type FeatureOutput,
  type GraphStructure,
} from './graphOutput';
import { diffInputSpecs, formatInputSpec, parseInputSpec, type ExtractorInputSpec } from './inputSpec';
import { readOnnxModelInfo } from './onnxMetadata';
import { openOrtSession } from './ortSession';
import { sha256File } from './sha256File';
import { checkModelMatchesSpec, formatShape, notAnImageModel } from './validateSpec';

/** metadata_props key under which a model may carry its own spec (JSON) */
export const SPEC_METADATA_KEY = 'cfstudio.input_spec';

export type SpecSource = 'given' | 'spec-file' | 'sidecar' | 'metadata' | 'catalog' | 'inferred';

export interface ResolvedSpec {
  spec: ExtractorInputSpec;
  source: SpecSource;
  /** sha256 of the model file */
  sha256: string;
  /** the catalog entry with this sha256, whatever the source of the spec */
  catalogId?: string;
  /** the spec or sidecar file that was read (sources 'spec-file' and 'sidecar') */
  specPath?: string;
  /** the feature tensor `spec.outputName` names (its symbol, e.g. "@penultimate", when it had one) */
  output: FeatureOutput;
  warnings: string[];
}

export interface ResolveSpecOptions extends CatalogOptions {
  /** a spec the caller already has (e.g. typed in the app), validated like a file's */
  spec?: unknown;
  specFile?: string;
  overrides?: Partial<ExtractorInputSpec>;
}

/** Where sidecar specs for `modelFile` may be, in the order they are tried. */
export function sidecarPaths(modelFile: string): string[] {
  const ext = path.extname(modelFile);
  const paths = [`${modelFile}.json`];
  if (ext && ext.toLowerCase() !== '.json') paths.push(modelFile.slice(0, -ext.length) + '.json');
  return paths;
}

export async function resolveExtractorSpec(
  modelFile: string,
  opts: ResolveSpecOptions = {},
): Promise<ResolvedSpec> {
  const info = await readOnnxModelInfo(modelFile); // fails early and clearly on a non-ONNX file
  const sha256 = await sha256File(modelFile);
  const entry = findCatalogEntryBySha256(sha256, opts);
  const warnings: string[] = [];

  let found: { spec: ExtractorInputSpec; source: SpecSource; specPath?: string } | undefined;
  if (opts.spec !== undefined) {
    found = { spec: parseInputSpec(opts.spec, 'the spec given with the model'), source: 'given' };
  } else if (opts.specFile) {
    found = { spec: await readSpecFile(opts.specFile), source: 'spec-file', specPath: opts.specFile };
  }
  if (!found) {
    const existing = [];
    for (const p of sidecarPaths(modelFile)) if (await isFile(p)) existing.push(p);
    if (existing.length > 1) {
      warnings.push(`Both ${existing.map((p) => `"${p}"`).join(' and ')} exist; using "${existing[0]}".`);
    }
    if (existing.length > 0) {
      found = { spec: await readSpecFile(existing[0]), source: 'sidecar', specPath: existing[0] };
    }
  }
  if (!found) {
    const meta = info.metadataProps[SPEC_METADATA_KEY];
    if (meta !== undefined) {
      found = {
        spec: parseInputSpec(meta, `"${modelFile}" (ONNX metadata_props "${SPEC_METADATA_KEY}")`),
        source: 'metadata',
      };
    }
  }
  if (!found && entry) found = { spec: entry.spec, source: 'catalog' };
  if (!found) {
    const inferred = await inferSpec(modelFile);
    warnings.push(...inferred.warnings);
    found = { spec: inferred.spec, source: 'inferred' };
  }

  const graph = await readGraphStructure(modelFile);
  if (entry && found.source !== 'catalog') {
    const diff = diffInputSpecs(withTensorName(found.spec, graph), withTensorName(entry.spec, graph));
    if (diff.length > 0) {
      warnings.push(
        `This model is the catalog's "${entry.id}", whose spec differs in ${diff.join(', ')}; ` +
          `using the ${found.source} spec as asked.`,
      );
    }
  }

  let spec = found.spec;
  const overrides = Object.fromEntries(
    Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(overrides).length > 0) {
    spec = parseInputSpec(
      { ...spec, ...overrides },
      `the spec overrides (${Object.keys(overrides).join(', ')})`,
    );
  }
  const output = resolveFeatureOutput(graph, spec.outputName, modelFile);
  return {
    spec: output.name === spec.outputName ? spec : { ...spec, outputName: output.name },
    source: found.source,
    sha256,
    ...(entry ? { catalogId: entry.id } : {}),
    ...(found.specPath ? { specPath: found.specPath } : {}),
    output,
    warnings,
  };
}

/** `spec` with a symbolic outputName replaced by its tensor (unchanged when it does not resolve). */
function withTensorName(spec: ExtractorInputSpec, graph: GraphStructure): ExtractorInputSpec {
  if (!spec.outputName.startsWith('@')) return spec;
  try {
    return { ...spec, outputName: resolveFeatureOutput(graph, spec.outputName, '').name };
  } catch {
    return spec;
  }
}

async function readSpecFile(file: string): Promise<ExtractorInputSpec> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e) {
    throw fileReadError(file, e, 'the extractor input spec');
  }
  return parseInputSpec(text, `"${file}"`);
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Size used when the model's spatial dims are dynamic: the usual ImageNet input. */
const DEFAULT_SIZE = 224;

/** A spec guessed from the model's first input and output (needs an ONNX Runtime session). */
async function inferSpec(modelFile: string): Promise<{ spec: ExtractorInputSpec; warnings: string[] }> {
  const { session } = await openOrtSession(modelFile, { providers: ['cpu'] });
  try {
    const input = session.inputMetadata[0];
    const output = session.outputMetadata[0];
    if (!input) throw notAnImageModel(modelFile, { name: '(none)', shape: [] }, 'the model has no inputs');
    const shape = input.isTensor ? input.shape : [];
    if (shape.length !== 4) throw notAnImageModel(modelFile, input);
    const layout = shape[1] === 3 ? 'NCHW' : shape[3] === 3 ? 'NHWC' : null;
    if (!layout) throw notAnImageModel(modelFile, input, 'no dimension of size 3 at position 1 or 3');
    const [h, w] = layout === 'NCHW' ? [shape[2], shape[3]] : [shape[1], shape[2]];
    const warnings: string[] = [];
    const dynamic = typeof h !== 'number' || typeof w !== 'number';
    const spec = parseInputSpec(
      {
        inputName: input.name,
        outputName: output?.name ?? '(none)',
        width: typeof w === 'number' ? w : DEFAULT_SIZE,
        height: typeof h === 'number' ? h : DEFAULT_SIZE,
        layout,
        channelOrder: 'RGB',
        scale: 1 / 255,
        mean: [0, 0, 0],
        std: [1, 1, 1],
        resize: 'squash',
        l2Normalize: true,
      },
      `the spec inferred from "${modelFile}"`,
    );
    checkModelMatchesSpec(session, spec, modelFile); // e.g. an output that is not [N, D]
    const sidecar = sidecarPaths(modelFile)[sidecarPaths(modelFile).length - 1];
    warnings.push(
      `No input spec found for "${modelFile}" (no spec file, no sidecar ${sidecarPaths(modelFile)
        .map((p) => `"${path.basename(p)}"`)
        .join(' or ')}, no "${SPEC_METADATA_KEY}" metadata, and its sha256 is not in the catalog). ` +
        `From its input shape ${formatShape(shape)} the spec was guessed as: ${formatInputSpec(spec)}. ` +
        'The normalization (RGB, scale 1/255, mean 0, std 1) and the resize mode are guesses' +
        (dynamic
          ? `, and so is the size (its input size is dynamic; ${DEFAULT_SIZE}×${DEFAULT_SIZE} assumed)`
          : '') +
        ': if the model was trained with other values its features will be wrong. ' +
        `Write the correct spec to "${sidecar}", e.g. ${JSON.stringify(spec)}`,
    );
    return { spec, warnings };
  } finally {
    await session.release();
  }
}
