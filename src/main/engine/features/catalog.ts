/**
 * The extractor catalog (`resources/extractors.json`): known feature extractors with their input
 * spec, licence, and where to get them. A local model file whose sha256 matches an entry gets that
 * entry's spec automatically; an entry can be downloaded only when it has both a URL and a sha256,
 * so that nothing unverified is ever fetched and run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../util/errors';
import { fileReadError } from './fileErrors';
import { ExtractorInputSpec } from './inputSpec';
import { resourcePath } from './resources';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'expected 64 lowercase hex digits' });
const Id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'expected lowercase letters, digits, . _ -' });

export const CatalogEntry = z
  .strictObject({
    id: Id,
    /** other names the entry answers to (e.g. "resnet18" for "resnet18-v2-imagenet") */
    aliases: z.array(Id).default([]),
    name: z.string().min(1),
    description: z.string(),
    /** 'unverified': the file's checksum is not known, so url and sha256 may be null */
    status: z.enum(['verified', 'unverified']).default('verified'),
    url: z.url({ protocol: /^https?$/ }).nullable(),
    sha256: Sha256.nullable(),
    bytes: z.number().int().positive().nullable(),
    spec: ExtractorInputSpec,
    license: z.string(),
    notes: z.string(),
  })
  .superRefine((e, ctx) => {
    if (e.sha256 === null && e.status !== 'unverified') {
      ctx.addIssue({
        code: 'custom',
        path: ['sha256'],
        message: 'may be null only in entries marked "status": "unverified"',
      });
    }
    if (e.url !== null && e.sha256 === null) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: "a download URL needs the file's sha256" });
    }
  });
export type CatalogEntry = z.output<typeof CatalogEntry>;

const CatalogFile = z.strictObject({ version: z.literal(1), extractors: z.array(CatalogEntry) });

/** The download a catalog entry allows: both fields present, so the file can be verified. */
export interface CatalogDownload {
  url: string;
  sha256: string;
  bytes: number | null;
}

export interface CatalogOptions {
  /** default: `extractors.json` in the resources folder */
  catalogFile?: string;
}

const cache = new Map<string, { stamp: string; entries: CatalogEntry[] }>();

/**
 * All entries of the catalog, cached per file until it changes on disk. Synchronous on purpose:
 * the file is small and ships with the app, and lookups happen in argument parsing and UI code.
 */
export function listCatalog(opts: CatalogOptions = {}): CatalogEntry[] {
  const file = path.resolve(opts.catalogFile ?? resourcePath('extractors.json'));
  let stamp = '';
  try {
    const st = fs.statSync(file);
    stamp = `${st.mtimeMs}:${st.size}`;
  } catch {
    // readCatalog reports it
  }
  const hit = cache.get(file);
  if (hit && stamp && hit.stamp === stamp) return hit.entries;
  const entries = readCatalog(file);
  cache.set(file, { stamp, entries });
  return entries;
}

function readCatalog(file: string): CatalogEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw fileReadError(file, e, 'the extractor catalog');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UserError(
      `The extractor catalog "${file}" is not valid JSON: ${(e as Error).message}`,
      'Restore the file from the app installation (or from git).',
    );
  }
  const r = CatalogFile.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new UserError(
      `The extractor catalog "${file}" is invalid: ${describeIssuePath(json, issue.path)}: ${issue.message}`,
      'Fix that entry, or restore the file from the app installation (or from git).',
    );
  }
  const seen = new Set<string>();
  for (const e of r.data.extractors) {
    for (const id of [e.id, ...e.aliases]) {
      if (seen.has(id)) {
        throw new UserError(
          `The extractor catalog "${file}" lists the id or alias "${id}" twice`,
          'Make the ids and aliases unique.',
        );
      }
      seen.add(id);
    }
  }
  return r.data.extractors;
}

/** `extractors[1] (moco-v2-r50-imagenet).spec.mean` style location of an issue. */
function describeIssuePath(json: unknown, p: readonly PropertyKey[]): string {
  if (p.length === 0) return 'top level';
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const k = p[i];
    out += typeof k === 'number' ? `[${k}]` : `${i === 0 ? '' : '.'}${String(k)}`;
    if (i === 1 && p[0] === 'extractors' && typeof k === 'number') {
      const id = (json as { extractors?: { id?: unknown }[] }).extractors?.[k]?.id;
      if (typeof id === 'string') out += ` (${id})`;
    }
  }
  return out;
}

/** The entry with this id or alias, or undefined. */
export function findCatalogEntry(id: string, opts: CatalogOptions = {}): CatalogEntry | undefined {
  const all = listCatalog(opts);
  return all.find((x) => x.id === id) ?? all.find((x) => x.aliases.includes(id));
}

/** The entry with this id; UserError listing the known ids otherwise. */
export function getCatalogEntry(id: string, opts: CatalogOptions = {}): CatalogEntry {
  const e = findCatalogEntry(id, opts);
  if (!e) {
    throw new UserError(
      `There is no extractor "${id}" in the catalog`,
      `Known extractors: ${listCatalog(opts)
        .map((x) => (x.aliases.length ? `${x.id} (${x.aliases.join(', ')})` : x.id))
        .join(', ')}. Or use a local .onnx file.`,
    );
  }
  return e;
}

/** The entry whose file has this sha256, if any. */
export function findCatalogEntryBySha256(
  sha256: string,
  opts: CatalogOptions = {},
): CatalogEntry | undefined {
  const h = sha256.toLowerCase();
  return listCatalog(opts).find((e) => e.sha256 === h);
}

/**
 * Where to download an entry from. Refuses (UserError) entries without both a URL and a sha256:
 * an unverifiable file is never fetched; the message says how to use a local file instead.
 */
export function catalogDownload(entry: CatalogEntry): CatalogDownload {
  if (entry.url && entry.sha256) return { url: entry.url, sha256: entry.sha256, bytes: entry.bytes };
  const why =
    entry.url === null && entry.sha256 !== null
      ? 'it is a local file only (the catalog has no download URL for it)'
      : 'the catalog has no verified download for it (no URL and sha256)';
  const recognized =
    entry.sha256 !== null
      ? "CF Studio recognizes that file by its sha256 and applies this entry's input spec."
      : `Save this entry's input spec next to the file as <model>.json (or <model>.onnx.json): ${JSON.stringify(entry.spec)}`;
  throw new UserError(
    `Cannot download the extractor "${entry.name}" (${entry.id}): ${why}`,
    `Import a local .onnx file instead: choose the model file in the app, or pass its path on the command line. ${recognized}` +
      (entry.notes ? ` ${entry.notes}` : ''),
  );
}
