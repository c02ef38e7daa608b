/**
 * The feature-extractor layer (src/main/engine/features): input specs, pixel packing, ONNX
 * metadata, the catalog, spec resolution, model/spec validation, the ONNX Runtime extractor and
 * verified downloads. Small models are written by test/fixtures/onnxModels.ts; the real MoCo
 * model in ../shared/models is used where present.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OnnxExtractor,
  catalogDownload,
  checkModelMatchesSpec,
  downloadModel,
  ensureCatalogModel,
  findCatalogEntryBySha256,
  getCatalogEntry,
  listCatalog,
  parseInputSpec,
  pixelsToTensor,
  readOnnxMetadataProps,
  readOnnxModelInfo,
  resolveExtractorSpec,
  resourcesDir,
  sha256File,
  type DownloadProgress,
  type ExtractorInputSpec,
  type ModelSignature,
} from '../../src/main/engine/features';
import { CancelledError, UserError } from '../../src/main/engine/util/errors';
import { tinyImageWeights, writeTabularOnnx, writeTinyImageOnnx } from '../fixtures/onnxModels';

const root = fileURLToPath(new URL('../..', import.meta.url));
const REAL_MODEL = path.resolve(root, '../shared/models/moco_r18_cifar10.onnx');
const REAL_SHA256 = 'acad261cf09a4b302ce6bcbad39e3ea8bd78d997402b51c005970eeee85972ba';
const haveReal = fs.existsSync(REAL_MODEL);

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cfstudio-extractors-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A fresh folder per test, so that sidecars of one test never leak into another. */
function dir(name: string): string {
  const d = path.join(tmp, name);
  fs.mkdirSync(d, { recursive: true });
  return d;
}

/** The rejection of `p`, asserted to be a UserError. */
async function userError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('expected a UserError, nothing was thrown');
}

const baseSpec = (over: Partial<ExtractorInputSpec> = {}): ExtractorInputSpec =>
  parseInputSpec({ inputName: 'pixels', outputName: 'features', width: 8, height: 8, ...over }, 'test');

describe('parseInputSpec', () => {
  it('fills the defaults of a minimal spec', () => {
    const s = parseInputSpec(
      { inputName: 'images', outputName: 'embedding', width: 32, height: 32 },
      'a.json',
    );
    expect(s).toEqual({
      inputName: 'images',
      outputName: 'embedding',
      width: 32,
      height: 32,
      layout: 'NCHW',
      channelOrder: 'RGB',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
      resize: 'squash',
      cropFraction: 1,
      l2Normalize: true,
    });
  });

  it('accepts JSON text', () => {
    const s = parseInputSpec(
      '{"inputName":"x","outputName":"y","width":4,"height":2,"layout":"NHWC"}',
      'b.json',
    );
    expect(s.layout).toBe('NHWC');
    expect(s.height).toBe(2);
  });

  it.each([
    [{ outputName: 'y', width: 4, height: 4 }, /"inputName"/],
    [{ inputName: 'x', outputName: 'y', width: 4.5, height: 4 }, /"width"/],
    [{ inputName: 'x', outputName: 'y', width: 4, height: 4, std: [1, 0, 1] }, /"std".*> 0/],
    [{ inputName: 'x', outputName: 'y', width: 4, height: 4, mean: [0, 0] }, /"mean"/],
    [{ inputName: 'x', outputName: 'y', width: 4, height: 4, layout: 'CHW' }, /"layout"/],
    [{ inputName: 'x', outputName: 'y', width: 4, height: 4, meen: [0, 0, 0] }, /unknown field "meen"/],
    [[1, 2, 3], /expected object/],
  ])('names the source and the bad field: %j', (json, field) => {
    const err = (() => {
      try {
        parseInputSpec(json, '"/data/model.json"');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toContain('"/data/model.json"');
    expect((err as UserError).message).toMatch(field);
    expect((err as UserError).hint).toMatch(/inputName/);
  });

  it('reports invalid JSON text with its source', () => {
    expect(() => parseInputSpec('{"inputName": ', '"/data/x.json"')).toThrow(
      /"\/data\/x.json" is not valid JSON/,
    );
  });
});

describe('pixelsToTensor', () => {
  // two images of 2×1 pixels (W = 2, H = 1), RGB bytes
  const a = Uint8Array.from([10, 20, 30, 40, 50, 60]);
  const b = Uint8Array.from([255, 0, 128, 1, 2, 3]);
  const spec = {
    width: 2,
    height: 1,
    scale: 1 / 255,
    mean: [0.5, 0.4, 0.3] as [number, number, number],
    std: [0.25, 0.5, 2] as [number, number, number],
  };
  const v = (p: number, c: number) => Math.fround((p / 255 - spec.mean[c]) / spec.std[c]);

  it('NCHW RGB: planes r, g, b per image', () => {
    const t = pixelsToTensor([a, b], { ...spec, layout: 'NCHW', channelOrder: 'RGB' });
    expect(t.length).toBe(12);
    // image 0: r plane [10, 40], g plane [20, 50], b plane [30, 60]
    expect(Array.from(t.subarray(0, 6))).toEqual([
      v(10, 0),
      v(40, 0),
      v(20, 1),
      v(50, 1),
      v(30, 2),
      v(60, 2),
    ]);
    // image 1, r plane starts at 6; b plane at 10
    expect(t[6]).toBe(v(255, 0));
    expect(t[7]).toBe(v(1, 0));
    expect(t[10]).toBe(v(128, 2));
    expect(t[11]).toBe(v(3, 2));
  });

  it('NHWC RGB: interleaved as in the input', () => {
    const t = pixelsToTensor([a, b], { ...spec, layout: 'NHWC', channelOrder: 'RGB' });
    expect(Array.from(t.subarray(0, 6))).toEqual([
      v(10, 0),
      v(20, 1),
      v(30, 2),
      v(40, 0),
      v(50, 1),
      v(60, 2),
    ]);
    expect(t[6]).toBe(v(255, 0));
    expect(t[8]).toBe(v(128, 2));
  });

  it('BGR swaps r and b, with mean/std still given as [r, g, b]', () => {
    const nhwc = pixelsToTensor([a], { ...spec, layout: 'NHWC', channelOrder: 'BGR' });
    expect(Array.from(nhwc)).toEqual([v(30, 2), v(20, 1), v(10, 0), v(60, 2), v(50, 1), v(40, 0)]);
    const nchw = pixelsToTensor([a], { ...spec, layout: 'NCHW', channelOrder: 'BGR' });
    expect(Array.from(nchw)).toEqual([v(30, 2), v(60, 2), v(20, 1), v(50, 1), v(10, 0), v(40, 0)]);
  });

  it('scale 1 and exact simple values', () => {
    const t = pixelsToTensor([a], {
      width: 2,
      height: 1,
      layout: 'NCHW',
      channelOrder: 'RGB',
      scale: 1,
      mean: [10, 0, 0],
      std: [2, 1, 1],
    });
    expect(Array.from(t)).toEqual([0, 15, 20, 50, 30, 60]);
  });

  it('rejects an image of the wrong size', () => {
    expect(() =>
      pixelsToTensor([a, b.subarray(0, 3)], { ...spec, layout: 'NCHW', channelOrder: 'RGB' }),
    ).toThrow(/image 1 has 3 bytes, expected 2×1×3 = 6/);
  });
});

describe('ONNX metadata', () => {
  it('round-trips metadata_props, producer and opsets of a written model', async () => {
    const file = path.join(dir('meta'), 'tiny.onnx');
    const props = { 'cfstudio.input_spec': '{"a": 1}', author: 'tests', empty: '' };
    writeTinyImageOnnx(file, { layout: 'NCHW', size: 8, dim: 4, metadataProps: props });
    expect(await readOnnxMetadataProps(file)).toEqual(props);
    const info = await readOnnxModelInfo(file);
    expect(info.producerName).toBe('cfstudio-tests');
    expect(info.producerVersion).toBe('1');
    expect(info.irVersion).toBe(8);
    expect(info.opsetImports).toEqual([{ domain: '', version: 17 }]);
  });

  it('returns {} for a model without metadata_props', async () => {
    const file = path.join(dir('meta-none'), 'tab.onnx');
    writeTabularOnnx(file);
    expect(await readOnnxMetadataProps(file)).toEqual({});
  });

  it('rejects a text file renamed .onnx, an empty file and a truncated model', async () => {
    const d = dir('not-onnx');
    const text = path.join(d, 'notes.onnx');
    fs.writeFileSync(text, 'hello, this is not a model\nreally not\n');
    const empty = path.join(d, 'empty.onnx');
    fs.writeFileSync(empty, '');
    const good = path.join(d, 'good.onnx');
    writeTinyImageOnnx(good, { layout: 'NCHW', size: 8, dim: 4 });
    const cut = path.join(d, 'cut.onnx');
    const bytes = fs.readFileSync(good);
    fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
    for (const f of [text, empty, cut]) {
      const e = await userError(readOnnxModelInfo(f));
      expect(e.message).toContain(`"${f}" is not an ONNX model`);
      expect(e.hint).toMatch(/\.onnx/);
    }
    // the same error through the extractor and the spec resolution, not an ONNX Runtime message
    expect((await userError(OnnxExtractor.load(text, baseSpec()))).message).toMatch(/is not an ONNX model/);
    expect((await userError(resolveExtractorSpec(text))).message).toMatch(/is not an ONNX model/);
  });

  it('names a missing file', async () => {
    const e = await userError(readOnnxModelInfo(path.join(tmp, 'nope.onnx')));
    expect(e.message).toMatch(/Cannot read the model ".*nope.onnx": file not found/);
  });
});

describe('catalog', () => {
  it('lists the shared model and the paper default; the R50 entry is unverified without url/sha256', () => {
    const ids = listCatalog().map((e) => e.id);
    expect(ids).toEqual(expect.arrayContaining(['moco-r18-cifar10', 'moco-v2-r50-imagenet']));
    const r18 = getCatalogEntry('moco-r18-cifar10');
    expect(r18.sha256).toBe(REAL_SHA256);
    expect(r18.spec).toMatchObject({
      inputName: 'images',
      outputName: 'embedding',
      width: 32,
      layout: 'NCHW',
    });
    const r50 = getCatalogEntry('moco-v2-r50-imagenet');
    expect(r50).toMatchObject({ status: 'unverified', url: null, sha256: null });
    expect(r50.spec).toMatchObject({
      width: 224,
      height: 224,
      resize: 'center-crop',
      mean: [0.485, 0.456, 0.406],
    });
    expect(findCatalogEntryBySha256(REAL_SHA256.toUpperCase())?.id).toBe('moco-r18-cifar10');
  });

  it('refuses to download entries without url + sha256, saying how to use a local file', async () => {
    const r50 = await userError(() => catalogDownload(getCatalogEntry('moco-v2-r50-imagenet')));
    expect(r50.message).toMatch(/Cannot download .*moco-v2-r50-imagenet.*no verified download/);
    expect(r50.hint).toMatch(/Import a local \.onnx file/);
    expect(r50.hint).toMatch(/<model>\.json/);
    const r18 = await userError(() => catalogDownload(getCatalogEntry('moco-r18-cifar10')));
    expect(r18.message).toMatch(/local file only/);
    const ensure = await userError(ensureCatalogModel('moco-v2-r50-imagenet', dir('models-none')));
    expect(ensure.message).toMatch(/Cannot download/);
    expect(fs.readdirSync(path.join(tmp, 'models-none'))).toEqual([]);
    expect((await userError(() => getCatalogEntry('nope'))).hint).toMatch(/moco-r18-cifar10/);
  });

  it('allows null sha256 only in entries marked unverified', () => {
    const file = path.join(dir('bad-catalog'), 'extractors.json');
    const entry = { ...getCatalogEntry('moco-v2-r50-imagenet'), id: 'x', status: 'verified' };
    fs.writeFileSync(file, JSON.stringify({ version: 1, extractors: [entry] }));
    expect(() => listCatalog({ catalogFile: file })).toThrow(
      /extractors\[0\] \(x\)\.sha256: may be null only/,
    );
  });

  it('finds resources/ from the module location, or from CFSTUDIO_RESOURCES', () => {
    expect(resourcesDir()).toBe(path.join(root, 'resources'));
    const d = dir('res');
    const saved = process.env.CFSTUDIO_RESOURCES;
    process.env.CFSTUDIO_RESOURCES = d;
    try {
      expect(resourcesDir()).toBe(d);
    } finally {
      if (saved === undefined) delete process.env.CFSTUDIO_RESOURCES;
      else process.env.CFSTUDIO_RESOURCES = saved;
    }
  });
});

describe('resolveExtractorSpec on small models', () => {
  it('infers the spec of an image model from its input shape, with a warning', async () => {
    const file = path.join(dir('infer'), 'tiny.onnx');
    writeTinyImageOnnx(file, { layout: 'NHWC', size: 8, dim: 6 });
    const r = await resolveExtractorSpec(file);
    expect(r.source).toBe('inferred');
    expect(r.spec).toMatchObject({
      inputName: 'pixels',
      outputName: 'features',
      width: 8,
      height: 8,
      layout: 'NHWC',
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    expect(r.sha256).toBe(await sha256File(file));
    expect(r.catalogId).toBeUndefined();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/guess/);
    expect(r.warnings[0]).toContain(path.join(path.dirname(file), 'tiny.json'));
  });

  it('assumes 224×224 for dynamic spatial dims, and says so', async () => {
    const file = path.join(dir('infer-dyn'), 'tiny.onnx');
    writeTinyImageOnnx(file, { layout: 'NCHW', size: 8, dim: 3, dynamicSize: true });
    const r = await resolveExtractorSpec(file);
    expect(r.spec).toMatchObject({ width: 224, height: 224, layout: 'NCHW' });
    expect(r.warnings[0]).toMatch(/dynamic/);
  });

  it('order: spec file > sidecar > metadata > catalog > inferred; overrides on top', async () => {
    const d = dir('order');
    const file = path.join(d, 'tiny.onnx');
    const metaSpec = { inputName: 'pixels', outputName: 'features', width: 8, height: 8, scale: 1 };
    writeTinyImageOnnx(file, {
      layout: 'NCHW',
      size: 8,
      dim: 4,
      metadataProps: { 'cfstudio.input_spec': JSON.stringify(metaSpec) },
    });
    const sha = await sha256File(file);
    const catalogFile = path.join(d, 'catalog.json');
    const catalogSpec = { ...metaSpec, scale: 2, l2Normalize: false };
    fs.writeFileSync(
      catalogFile,
      JSON.stringify({
        version: 1,
        extractors: [
          {
            id: 'tiny',
            name: 'Tiny',
            description: '',
            url: null,
            sha256: sha,
            bytes: null,
            spec: catalogSpec,
            license: '',
            notes: '',
          },
        ],
      }),
    );

    const fromMeta = await resolveExtractorSpec(file, { catalogFile });
    expect(fromMeta.source).toBe('metadata');
    expect(fromMeta.spec.scale).toBe(1);
    expect(fromMeta.catalogId).toBe('tiny');
    expect(fromMeta.warnings.join('\n')).toMatch(/catalog's "tiny".*differs in scale, l2Normalize/);

    fs.writeFileSync(path.join(d, 'tiny.json'), JSON.stringify({ ...metaSpec, scale: 3 }));
    const fromSidecar = await resolveExtractorSpec(file, { catalogFile });
    expect(fromSidecar).toMatchObject({ source: 'sidecar', specPath: path.join(d, 'tiny.json') });
    expect(fromSidecar.spec.scale).toBe(3);

    fs.writeFileSync(path.join(d, 'tiny.onnx.json'), JSON.stringify({ ...metaSpec, scale: 4 }));
    const both = await resolveExtractorSpec(file, { catalogFile });
    expect(both.spec.scale).toBe(4);
    expect(both.warnings.join('\n')).toMatch(/Both .* exist; using ".*tiny\.onnx\.json"/);

    const specFile = path.join(d, 'explicit.json');
    fs.writeFileSync(specFile, JSON.stringify({ ...metaSpec, scale: 5 }));
    const explicit = await resolveExtractorSpec(file, {
      catalogFile,
      specFile,
      overrides: { l2Normalize: false, resize: undefined },
    });
    expect(explicit).toMatchObject({ source: 'spec-file', specPath: specFile });
    expect(explicit.spec).toMatchObject({ scale: 5, l2Normalize: false, resize: 'squash' });
    // a spec object given by the caller (the app's import dialog) wins over files, validated the same way
    const given = await resolveExtractorSpec(file, { catalogFile, spec: { ...metaSpec, scale: 6 } });
    expect(given.source).toBe('given');
    expect(given.spec.scale).toBe(6);
    const badGiven = await userError(
      resolveExtractorSpec(file, { catalogFile, spec: { ...metaSpec, width: 'x' } }),
    );
    expect(badGiven.message).toMatch(/the spec given with the model.*"width"/);

    const badOverride = await userError(
      resolveExtractorSpec(file, { catalogFile, overrides: { width: -1 } }),
    );
    expect(badOverride.message).toMatch(/overrides.*"width"/);

    // without sidecars and metadata the catalog wins over inference
    const plain = path.join(d, 'plain.onnx');
    writeTinyImageOnnx(plain, { layout: 'NCHW', size: 8, dim: 4 });
    const plainSha = await sha256File(plain);
    fs.writeFileSync(
      catalogFile,
      fs.readFileSync(catalogFile, 'utf8').replace(sha, plainSha).replace('"tiny"', '"tiny-plain"'),
    );
    const fromCatalog = await resolveExtractorSpec(plain, { catalogFile });
    expect(fromCatalog).toMatchObject({ source: 'catalog', catalogId: 'tiny-plain', warnings: [] });
    expect(fromCatalog.spec).toMatchObject({ scale: 2, l2Normalize: false });
  });

  it('names the spec file and the field when a sidecar is invalid', async () => {
    const d = dir('bad-sidecar');
    const file = path.join(d, 'tiny.onnx');
    writeTinyImageOnnx(file, { layout: 'NCHW', size: 8, dim: 4 });
    fs.writeFileSync(
      path.join(d, 'tiny.json'),
      JSON.stringify({ inputName: 'pixels', outputName: 'f', width: 8 }),
    );
    const e = await userError(resolveExtractorSpec(file));
    expect(e.message).toContain(path.join(d, 'tiny.json'));
    expect(e.message).toMatch(/"height"/);
  });
});

describe('model vs spec', () => {
  it('rejects a tabular model with the image-model message', async () => {
    const file = path.join(dir('tabular'), 'table.onnx');
    writeTabularOnnx(file);
    const expected =
      `"${file}" is not an image model CF Studio can use: its input "x" has shape [N, 5]; ` +
      'an image extractor takes [N, 3, H, W] (NCHW) or [N, H, W, 3] (NHWC)';
    const viaLoad = await userError(OnnxExtractor.load(file, baseSpec({ inputName: 'x', outputName: 'y' })));
    expect(viaLoad.message).toBe(expected);
    expect(viaLoad.hint).toMatch(/Tabular data/);
    const viaResolve = await userError(resolveExtractorSpec(file));
    expect(viaResolve.message).toBe(expected);
  });

  const sig = (inShape: (number | string)[], outShape: (number | string)[] = ['N', 16]): ModelSignature => ({
    inputNames: ['pixels'],
    outputNames: ['features'],
    inputMetadata: [{ name: 'pixels', isTensor: true, type: 'float32', shape: inShape }],
    outputMetadata: [{ name: 'features', isTensor: true, type: 'float32', shape: outShape }],
  });

  it('accepts matching and dynamic shapes and reports fixed batch and D', () => {
    expect(checkModelMatchesSpec(sig(['N', 3, 8, 8]), baseSpec(), 'm.onnx')).toEqual({
      batch: null,
      dim: 16,
      rank: 2,
    });
    expect(checkModelMatchesSpec(sig([1, 3, 'h', 'w'], ['N', 'd']), baseSpec(), 'm.onnx')).toEqual({
      batch: 1,
      dim: null,
      rank: 2,
    });
    expect(checkModelMatchesSpec(sig(['N', 8, 8, 3]), baseSpec({ layout: 'NHWC' }), 'm.onnx').dim).toBe(16);
    // a pooled tensor is read as [N, D]; symbolic spatial dims are checked on a blank image
    expect(checkModelMatchesSpec(sig(['N', 3, 8, 8], ['N', 512, 1, 1]), baseSpec(), 'm.onnx')).toEqual({
      batch: null,
      dim: 512,
      rank: 4,
    });
    expect(checkModelMatchesSpec(sig(['N', 3, 8, 8], ['N', 1, 1, 512]), baseSpec(), 'm.onnx').dim).toBe(512);
    expect(
      checkModelMatchesSpec(sig(['N', 3, 8, 8], ['N', 512, 'h', 'w']), baseSpec(), 'm.onnx').dim,
    ).toBeNull();
  });

  it.each([
    [
      'a missing input',
      { ...sig(['N', 3, 8, 8]), inputNames: ['img'] },
      {},
      /has no input "pixels"/,
      /inputName/,
    ],
    ['another size', sig(['N', 3, 16, 16]), {}, /takes 16×16 images .* spec says 8×8/, /"width": 16/],
    [
      'the other layout',
      sig(['N', 8, 8, 3]),
      {},
      /which is NHWC, but the extractor spec says NCHW/,
      /"NHWC"/,
    ],
    ['1 channel', sig(['N', 1, 8, 8]), {}, /not an image model.*1 channels/, /image feature extractor/],
    ['a missing output', sig(['N', 3, 8, 8]), { outputName: 'emb' }, /has no output "emb"/, /outputName/],
    [
      'a feature map',
      sig(['N', 3, 8, 8], ['N', 512, 7, 7]),
      {},
      /output "features" has shape \[N, 512, 7, 7\]; CF Studio needs one feature vector per image: \[N, D\], or a pooled \[N, D, 1, 1\]/,
      /global pooling, e\.g\. "@penultimate"/,
    ],
    ['a rank-1 output', sig(['N', 3, 8, 8], ['N']), {}, /output "features" has shape \[N\]/, /Flatten/],
  ])('rejects %s', (_, model, over, message, hint) => {
    let err: unknown;
    try {
      checkModelMatchesSpec(model, baseSpec(over), '/x/model.onnx');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).message).toMatch(message);
    expect((err as UserError).message).toContain('/x/model.onnx');
    expect((err as UserError).hint).toMatch(hint);
  });
});

/** Expected features of the tiny model: per-channel means (in the tensor's channel order) times W. */
function tinyExpected(
  t: Float32Array,
  n: number,
  size: number,
  dim: number,
  layout: 'NCHW' | 'NHWC',
): number[] {
  const w = tinyImageWeights(dim);
  const plane = size * size;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const means = [0, 1, 2].map((c) => {
      let s = 0;
      for (let j = 0; j < plane; j++)
        s += layout === 'NCHW' ? t[(i * 3 + c) * plane + j] : t[(i * plane + j) * 3 + c];
      return s / plane;
    });
    for (let d = 0; d < dim; d++)
      out.push(means[0] * w[d] + means[1] * w[dim + d] + means[2] * w[2 * dim + d]);
  }
  return out;
}

function randomImages(n: number, w: number, h: number, seed: number): Uint8Array[] {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24) & 0xff;
  return Array.from({ length: n }, () => Uint8Array.from({ length: w * h * 3 }, next));
}

describe('OnnxExtractor on small models', () => {
  it.each(['NCHW', 'NHWC'] as const)('%s: runs and returns [n, dim] raw features', async (layout) => {
    const file = path.join(dir(`run-${layout}`), 'tiny.onnx');
    writeTinyImageOnnx(file, { layout, size: 8, dim: 5 });
    const spec = baseSpec({ layout, mean: [0.5, 0.5, 0.5], std: [0.2, 0.3, 0.4] });
    const ex = await OnnxExtractor.load(file, spec, { providers: ['cpu'] });
    try {
      expect(ex.dim).toBe(5);
      expect(ex.provider).toBe('cpu');
      const t = pixelsToTensor(randomImages(3, 8, 8, 1), spec);
      const y = await ex.run(t, 3);
      expect(y.length).toBe(15);
      const want = tinyExpected(t, 3, 8, 5, layout);
      for (let i = 0; i < want.length; i++) expect(y[i]).toBeCloseTo(want[i], 4);
      expect((await ex.run(new Float32Array(0), 0)).length).toBe(0);
      await expect(ex.run(t.subarray(1), 3)).rejects.toThrow(/expected 3 × 192/);
    } finally {
      await ex.release();
      await ex.release(); // twice is fine
    }
  });

  it('runs a fixed-batch (batch 1) model chunk by chunk, and learns a symbolic D', async () => {
    const file = path.join(dir('batch1'), 'tiny.onnx');
    writeTinyImageOnnx(file, { layout: 'NCHW', size: 8, dim: 7, batch: 1, symbolicDim: true });
    const spec = baseSpec();
    const ex = await OnnxExtractor.load(file, spec);
    try {
      const t = pixelsToTensor(randomImages(3, 8, 8, 2), spec);
      const y = await ex.run(t, 3);
      const want = tinyExpected(t, 3, 8, 7, 'NCHW');
      expect(y.length).toBe(21);
      for (let i = 0; i < want.length; i++) expect(y[i]).toBeCloseTo(want[i], 4);
    } finally {
      await ex.release();
    }
  });

  it('turns NaN features into a UserError naming the model', async () => {
    const file = path.join(dir('nan'), 'nan.onnx');
    writeTinyImageOnnx(file, { layout: 'NCHW', size: 8, dim: 3, nanOutput: true });
    const spec = baseSpec();
    const ex = await OnnxExtractor.load(file, spec);
    try {
      const e = await userError(ex.run(pixelsToTensor(randomImages(2, 8, 8, 3), spec), 2));
      expect(e.message).toMatch(/nan\.onnx" produced a non-finite feature \(NaN\) for image 0/);
      expect(e.hint).toMatch(/scale, mean, std/);
    } finally {
      await ex.release();
    }
  });
});

describe.skipIf(!haveReal)(
  `the shared MoCo model${haveReal ? '' : ` (skipped: ${REAL_MODEL} not found — the shared models folder is missing)`}`,
  () => {
    it('reads producer and opset without decoding the graph', async () => {
      const t0 = performance.now();
      const info = await readOnnxModelInfo(REAL_MODEL);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(info.producerName.length).toBeGreaterThan(0);
      expect(info.opsetImports).toEqual(expect.arrayContaining([{ domain: '', version: 17 }]));
      expect(typeof info.metadataProps).toBe('object');
    });

    it('a truncated copy is "not an ONNX model"', async () => {
      const cut = path.join(dir('real-cut'), 'cut.onnx');
      const fd = fs.openSync(REAL_MODEL, 'r');
      const buf = Buffer.alloc(1 << 20);
      fs.readSync(fd, buf, 0, buf.length, 0);
      fs.closeSync(fd);
      fs.writeFileSync(cut, buf);
      expect((await userError(readOnnxModelInfo(cut))).message).toMatch(
        /is not an ONNX model .*past the end/,
      );
    });

    it('resolves its spec from the catalog by sha256', async () => {
      const r = await resolveExtractorSpec(REAL_MODEL);
      expect(r).toMatchObject({
        source: 'catalog',
        catalogId: 'moco-r18-cifar10',
        sha256: REAL_SHA256,
        warnings: [],
      });
      expect(r.spec).toEqual(getCatalogEntry('moco-r18-cifar10').spec);
    });

    it('a sidecar next to it wins over the catalog (warning about the difference)', async () => {
      const d = dir('real-sidecar');
      const link = path.join(d, 'moco.onnx');
      fs.symlinkSync(REAL_MODEL, link);
      const spec = { ...getCatalogEntry('moco-r18-cifar10').spec, outputName: 'backbone' };
      fs.writeFileSync(path.join(d, 'moco.json'), JSON.stringify(spec));
      const r = await resolveExtractorSpec(link);
      expect(r).toMatchObject({ source: 'sidecar', catalogId: 'moco-r18-cifar10' });
      expect(r.spec.outputName).toBe('backbone');
      expect(r.warnings.join('\n')).toMatch(/differs in outputName/);
    });

    it('OnnxExtractor equals a straight onnxruntime session run; CPU, attempts recorded', async () => {
      const spec = getCatalogEntry('moco-r18-cifar10').spec;
      const ex = await OnnxExtractor.load(REAL_MODEL, spec);
      const n = 6;
      const t = pixelsToTensor(randomImages(n, 32, 32, 4), spec);
      let y: Float32Array;
      try {
        expect(ex.dim).toBe(128);
        expect(ex.provider).toBe('cpu');
        const last = ex.providerAttempts[ex.providerAttempts.length - 1];
        expect(last).toEqual({ provider: 'cpu', ok: true });
        for (const a of ex.providerAttempts.slice(0, -1)) {
          expect(a.ok).toBe(false);
          // says why the provider was not used, e.g. its library is not installed
          expect(a.reason).toMatch(new RegExp(a.provider === 'cuda' ? 'cuda|CUDA' : a.provider, 'i'));
        }
        if (process.platform === 'linux') expect(ex.providerAttempts[0].provider).toBe('cuda');
        y = await ex.run(t, n);
      } finally {
        await ex.release();
      }
      expect(y.length).toBe(n * 128);
      const session = await ort.InferenceSession.create(REAL_MODEL);
      try {
        const ref = (await session.run({ images: new ort.Tensor('float32', t, [n, 3, 32, 32]) })).embedding
          .data as Float32Array;
        let maxDiff = 0;
        for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - y[i]));
        expect(maxDiff).toBeLessThan(1e-5);
      } finally {
        await session.release();
      }
    });

    it('rejects a spec with the wrong size for it', async () => {
      const spec = { ...getCatalogEntry('moco-r18-cifar10').spec, width: 224, height: 224 };
      const e = await userError(OnnxExtractor.load(REAL_MODEL, spec, { providers: ['cpu'] }));
      expect(e.message).toMatch(/takes 32×32 images on its input "images" \(shape \[batch, 3, 32, 32\]\)/);
    });
  },
);

describe('downloadModel (loopback server)', () => {
  const SIZE = 3 * 1024 * 1024;
  const CHUNK = 64 * 1024;
  const payload = randomBytes(SIZE);
  const payloadSha = createHash('sha256').update(payload).digest('hex');
  let server: http.Server;
  let base: string;
  let hits = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      hits++;
      if (req.url !== '/model.bin' && req.url !== '/slow.bin') {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      const delay = req.url === '/slow.bin' ? 30 : 5;
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(SIZE) });
      let off = 0;
      const send = () => {
        if (res.destroyed) return;
        if (off >= SIZE) {
          res.end();
          return;
        }
        res.write(payload.subarray(off, off + CHUNK));
        off += CHUNK;
        setTimeout(send, delay);
      };
      send();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const leftovers = (d: string) => fs.readdirSync(d).filter((f) => f.includes('.part'));

  it('streams to the destination with monotone progress and a verified sha256', async () => {
    const d = dir('dl-ok');
    const dest = path.join(d, 'sub', 'model.onnx');
    const seen: DownloadProgress[] = [];
    const r = await downloadModel(`${base}/model.bin`, dest, {
      sha256: payloadSha,
      bytes: SIZE,
      onProgress: (p) => seen.push(p),
    });
    expect(r).toEqual({ file: dest, sha256: payloadSha, bytes: SIZE });
    expect(fs.readFileSync(dest).equals(payload)).toBe(true);
    expect(leftovers(path.dirname(dest))).toEqual([]);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++)
      expect(seen[i].received).toBeGreaterThanOrEqual(seen[i - 1].received);
    expect(seen.every((p) => p.total === SIZE)).toBe(true);
    const last = seen[seen.length - 1];
    expect(last.received).toBe(SIZE);
    expect(last.etaSeconds).toBe(0);
    expect(last.bytesPerSec).toBeGreaterThan(0);
  });

  it('a wrong sha256 is a UserError with both hashes, and leaves no file', async () => {
    const d = dir('dl-badsha');
    const dest = path.join(d, 'model.onnx');
    const wrong = '0'.repeat(64);
    const e = await userError(downloadModel(`${base}/model.bin`, dest, { sha256: wrong }));
    expect(e.message).toContain(payloadSha);
    expect(e.message).toContain(wrong);
    expect(e.hint).toMatch(/by hand/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('HTTP 404, a size mismatch and a refused connection are UserErrors with the URL', async () => {
    const d = dir('dl-errors');
    const e404 = await userError(
      downloadModel(`${base}/missing.bin`, path.join(d, 'a.onnx'), { sha256: payloadSha }),
    );
    expect(e404.message).toMatch(/Could not download http:\/\/127\.0\.0\.1:\d+\/missing\.bin: .*HTTP 404/);
    expect(e404.hint).toMatch(/download .* by hand .* local file/);
    const eSize = await userError(
      downloadModel(`${base}/model.bin`, path.join(d, 'b.onnx'), { sha256: payloadSha, bytes: 1234 }),
    );
    expect(eSize.message).toMatch(/offers 3145728 bytes, the expected file has 1234/);
    // a port nobody listens on: open a server, note its port, close it
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const eConn = await userError(
      downloadModel(`http://127.0.0.1:${port}/x`, path.join(d, 'c.onnx'), { sha256: payloadSha }),
    );
    expect(eConn.message).toMatch(/Could not download .*ECONNREFUSED/);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('abort mid-download: CancelledError and no temporary file left', async () => {
    const d = dir('dl-abort');
    const dest = path.join(d, 'model.onnx');
    const ac = new AbortController();
    let maxReceived = 0;
    const p = downloadModel(`${base}/slow.bin`, dest, {
      sha256: payloadSha,
      signal: ac.signal,
      onProgress: (pr) => {
        maxReceived = Math.max(maxReceived, pr.received);
        if (pr.received > 4 * CHUNK) ac.abort();
      },
    });
    await expect(p).rejects.toBeInstanceOf(CancelledError);
    expect(maxReceived).toBeGreaterThan(0);
    expect(maxReceived).toBeLessThan(SIZE);
    expect(fs.readdirSync(d)).toEqual([]);
  });

  it('ensureCatalogModel downloads a verified entry once and then reuses the file', async () => {
    const d = dir('dl-catalog');
    const catalogFile = path.join(d, 'extractors.json');
    const spec = { inputName: 'pixels', outputName: 'features', width: 8, height: 8 };
    fs.writeFileSync(
      catalogFile,
      JSON.stringify({
        version: 1,
        extractors: [
          {
            id: 'remote',
            name: 'Remote',
            description: '',
            url: `${base}/model.bin`,
            sha256: payloadSha,
            bytes: SIZE,
            spec,
            license: '',
            notes: '',
          },
        ],
      }),
    );
    const models = path.join(d, 'models');
    const before = hits;
    const file = await ensureCatalogModel('remote', models, { catalogFile });
    expect(file).toBe(path.join(models, 'remote.onnx'));
    expect(hits).toBe(before + 1);
    expect(await ensureCatalogModel('remote', models, { catalogFile })).toBe(file);
    expect(hits).toBe(before + 1);
    // a damaged copy is replaced
    fs.writeFileSync(file, 'damaged');
    expect(await ensureCatalogModel('remote', models, { catalogFile })).toBe(file);
    expect(hits).toBe(before + 2);
    expect(await sha256File(file)).toBe(payloadSha);
  });
});
