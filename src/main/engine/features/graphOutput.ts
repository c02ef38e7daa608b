/**
 * The feature tensor of an extractor when it is not simply a graph output. An input spec's
 * `outputName` may be
 *
 *   - a graph output: the model runs as it is;
 *   - any tensor computed by a node of the (top-level) graph, e.g. the global-average-pool of an
 *     ImageNet classifier: the model is loaded with that tensor added as one more graph output;
 *   - a symbol (inputSpec.ts SYMBOLIC_OUTPUTS): "@penultimate" is the input of the graph's last
 *     Gemm/MatMul node, i.e. the pooled features a classifier's last layer reads (after its
 *     Flatten). It is resolved to the tensor's name when the extractor is registered.
 *
 * The graph's structure (node op types, names, inputs and outputs; graph inputs and outputs) is
 * read with positioned reads that skip the weights (initializers), as onnxMetadata.ts does for the
 * top-level fields, so that resolving a name costs a few milliseconds even for a large model.
 *
 * Adding an output keeps the user's bytes as they are and appends one more ModelProto `graph`
 * field that holds only the new output's ValueInfoProto (name only). Protobuf parsers merge a
 * repeated embedded message into the earlier one, concatenating its repeated fields, so ONNX
 * Runtime sees the original graph with one more output and infers that output's type and shape.
 * (protobufjs replaces a repeated embedded message instead of merging it: never decode these
 * bytes with onnx-proto.)
 * Decoding and re-encoding the model with protobufjs instead would copy every weight through
 * JavaScript (≈ 0.6 s for a 46 MB model) and drop any field onnx-proto does not know. The session
 * is created from these bytes in memory: no derived model file is written (see README, "Images").
 */
import fs from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import protobuf from 'protobufjs/minimal.js';
import { UserError } from '../util/errors';
import { fileReadError } from './fileErrors';
import { SYMBOLIC_OUTPUTS } from './inputSpec';

const { onnx } = onnxProto;

export const PENULTIMATE = '@penultimate';

export interface GraphNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
}

/** What the extractor code needs to know of a model's graph (no weights). */
export interface GraphStructure {
  /** graph inputs (models with IR version < 4 also list their initializers here) */
  inputs: string[];
  outputs: string[];
  /** top-level nodes, in graph order (topologically sorted, as ONNX requires) */
  nodes: GraphNode[];
}

/** The tensor an extractor reads its features from. */
export interface FeatureOutput {
  /** the tensor's name in the graph */
  name: string;
  /** the symbol it was resolved from (e.g. "@penultimate"), null for a name given as such */
  symbol: string | null;
  /** not a graph output: the model is loaded with it added as one */
  internal: boolean;
  /** the node that computes it (null for a graph output of an unknown producer) */
  producer: { opType: string; name: string } | null;
  /** for "@penultimate": the Gemm/MatMul node whose input it is */
  consumer: { opType: string; name: string } | null;
}

const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
/** larger than any tag + length: 10 bytes each */
const HEADER_WINDOW = 32;

/** The graph structure of the ONNX model in `file` (read without its weights). */
export async function readGraphStructure(file: string): Promise<GraphStructure> {
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw fileReadError(file, e, 'the model');
  }
  try {
    const { size } = await fh.stat();
    const graph: GraphStructure = { inputs: [], outputs: [], nodes: [] };
    let found = false;
    await forEachField(fh, 0, size, file, async (field, start, length) => {
      if (field !== MODEL_GRAPH) return;
      found = true;
      await forEachField(fh, start, start + length, file, async (gField, gStart, gLength) => {
        if (gField !== GRAPH_NODE && gField !== GRAPH_INPUT && gField !== GRAPH_OUTPUT) return;
        const bytes = Buffer.alloc(gLength);
        await fh.read(bytes, 0, gLength, gStart);
        try {
          if (gField === GRAPH_NODE) {
            const n = onnx.NodeProto.decode(bytes);
            graph.nodes.push({
              opType: n.opType ?? '',
              name: n.name ?? '',
              inputs: n.input ?? [],
              outputs: n.output ?? [],
            });
          } else {
            const name = onnx.ValueInfoProto.decode(bytes).name ?? '';
            (gField === GRAPH_INPUT ? graph.inputs : graph.outputs).push(name);
          }
        } catch {
          throw notReadable(
            file,
            `a graph ${gField === GRAPH_NODE ? 'node' : 'input/output'} does not decode`,
          );
        }
      });
    });
    if (!found) throw notReadable(file, 'it has no graph');
    return graph;
  } finally {
    await fh.close();
  }
}

/**
 * Calls `visit(field, valueStart, length)` for each length-delimited field of the protobuf
 * message stored in bytes [start, end) of the file; other wire types are skipped.
 */
async function forEachField(
  fh: fs.FileHandle,
  start: number,
  end: number,
  file: string,
  visit: (field: number, valueStart: number, length: number) => Promise<void>,
): Promise<void> {
  const header = Buffer.alloc(HEADER_WINDOW);
  let pos = start;
  while (pos < end) {
    const { bytesRead } = await fh.read(header, 0, Math.min(HEADER_WINDOW, end - pos), pos);
    const reader = protobuf.Reader.create(header.subarray(0, bytesRead));
    let field: number;
    let wireType: number;
    let length = 0;
    try {
      const tag = reader.uint32();
      field = tag >>> 3;
      wireType = tag & 7;
      if (wireType === 2) length = reader.uint32();
      else reader.skipType(wireType);
    } catch {
      throw notReadable(file, `unreadable field at byte ${pos}`);
    }
    const valueStart = pos + reader.pos;
    if (field === 0 || valueStart + length > end) {
      throw notReadable(file, `field ${field} at byte ${pos} runs past its message (truncated file?)`);
    }
    if (wireType === 2) await visit(field, valueStart, length);
    pos = valueStart + length;
  }
}

function notReadable(file: string, why: string): UserError {
  return new UserError(
    `"${file}" is not a readable ONNX model (${why})`,
    'The file may be incomplete or damaged: fetch or export it again and compare its size and sha256.',
  );
}

/** Short list of the last tensors the graph computes, e.g. `"fc" (Gemm), "flat" (Flatten)`. */
function lastTensors(graph: GraphStructure, count = 6): string {
  const out: string[] = [];
  for (let i = graph.nodes.length - 1; i >= 0 && out.length < count; i--) {
    const n = graph.nodes[i];
    for (const t of n.outputs) if (t && out.length < count) out.push(`"${t}" (${n.opType})`);
  }
  return out.join(', ') || 'none';
}

/** The "@penultimate" tensor: the computed input of the last Gemm/MatMul node. */
function penultimate(graph: GraphStructure, modelFile: string): FeatureOutput {
  const producers = producerMap(graph);
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    if (node.opType !== 'Gemm' && node.opType !== 'MatMul') continue;
    // the data operand: the first input some node computes (the other ones are weights)
    const name = node.inputs.find((t) => producers.has(t));
    if (name === undefined) {
      throw new UserError(
        `"${PENULTIMATE}" means the input of the last Gemm/MatMul node of "${modelFile}", but that node ` +
          `("${node.name}") reads no tensor computed by the graph`,
        `Set "outputName" in the extractor spec to a tensor of the graph instead; the last ones computed are ${lastTensors(graph)}.`,
      );
    }
    const p = producers.get(name)!;
    return {
      name,
      symbol: PENULTIMATE,
      internal: !graph.outputs.includes(name),
      producer: { opType: p.opType, name: p.name },
      consumer: { opType: node.opType, name: node.name },
    };
  }
  throw new UserError(
    `"${PENULTIMATE}" means the input of the last Gemm/MatMul node, and "${modelFile}" has none`,
    `Set "outputName" in the extractor spec to a tensor of the graph instead; the last ones computed are ${lastTensors(graph)}.`,
  );
}

function producerMap(graph: GraphStructure): Map<string, GraphNode> {
  const m = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const t of n.outputs) if (t) m.set(t, n);
  return m;
}

/**
 * The tensor `outputName` (a graph output, a tensor computed inside the graph, or a symbol)
 * stands for in this graph; UserError naming the model and the nearest candidates otherwise.
 */
export function resolveFeatureOutput(
  graph: GraphStructure,
  outputName: string,
  modelFile: string,
): FeatureOutput {
  if (outputName === PENULTIMATE) return penultimate(graph, modelFile);
  if (outputName.startsWith('@')) {
    throw new UserError(
      `Unknown symbolic output "${outputName}" for "${modelFile}"`,
      `Known symbols: ${Object.entries(SYMBOLIC_OUTPUTS)
        .map(([k, v]) => `"${k}" (${v})`)
        .join('; ')}.`,
    );
  }
  const p = producerMap(graph).get(outputName);
  const producer = p ? { opType: p.opType, name: p.name } : null;
  if (graph.outputs.includes(outputName)) {
    return { name: outputName, symbol: null, internal: false, producer, consumer: null };
  }
  if (producer) return { name: outputName, symbol: null, internal: true, producer, consumer: null };
  const outputs = graph.outputs.map((o) => `"${o}"`).join(', ') || 'none';
  const hint =
    `Set "outputName" in the extractor spec to one of its outputs (${outputs}), to a tensor computed ` +
    `inside the graph (the last ones: ${lastTensors(graph)}), or to "${PENULTIMATE}" ` +
    '(the input of the last Gemm/MatMul node, e.g. the pooled features of a classifier).';
  if (graph.inputs.includes(outputName)) {
    throw new UserError(
      `"${outputName}" is an input of "${modelFile}" (or one of its weights), not a tensor the model computes`,
      hint,
    );
  }
  throw new UserError(
    `"${modelFile}" has no tensor "${outputName}": it is neither an output of the model (${outputs}) ` +
      `nor computed by one of its ${graph.nodes.length} nodes`,
    hint,
  );
}

/**
 * The bytes of the model in `file` with the tensor `name` added as a graph output (see the top of
 * this file): the file's bytes followed by a ModelProto fragment `graph { output { name } }`.
 */
export async function modelWithOutput(file: string, name: string): Promise<Uint8Array> {
  const extra = onnx.ModelProto.encode(
    onnx.ModelProto.create({ graph: onnx.GraphProto.create({ output: [{ name }] }) }),
  ).finish();
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(file, 'r');
  } catch (e) {
    throw fileReadError(file, e, 'the model');
  }
  try {
    const { size } = await fh.stat();
    const bytes = Buffer.allocUnsafe(size + extra.length);
    let off = 0;
    while (off < size) {
      const { bytesRead } = await fh.read(bytes, off, size - off, off);
      if (bytesRead === 0) throw notReadable(file, 'it became shorter while it was read');
      off += bytesRead;
    }
    bytes.set(extra, size);
    return bytes;
  } finally {
    await fh.close();
  }
}

/**
 * One sentence on where the features come from, e.g.
 * `"@penultimate" = "flat" (the input of Gemm "fc"; computed by Flatten "flatten"), an internal
 * tensor added as a graph output; [1, 512] for one image`; with `seen.flattened`:
 * `…; [1, 512, 1, 1] for one image, flattened to 512 features`.
 */
export function describeFeatureOutput(
  o: FeatureOutput,
  seen?: { shape: readonly number[]; flattened: boolean; dim: number },
): string {
  const node = (n: { opType: string; name: string }) => `${n.opType}${n.name ? ` "${n.name}"` : ''}`;
  const where = [
    o.consumer && `the input of ${node(o.consumer)}`,
    o.producer && `computed by ${node(o.producer)}`,
  ]
    .filter(Boolean)
    .join('; ');
  let s =
    `${o.symbol ? `"${o.symbol}" = ` : ''}"${o.name}"${where ? ` (${where})` : ''}, ` +
    (o.internal ? 'an internal tensor added as a graph output' : 'a graph output');
  if (seen) {
    const per = seen.shape[0] === 1 ? 'for one image' : `for a batch of ${seen.shape[0]}`;
    s += `; [${seen.shape.join(', ')}] ${per}`;
    if (seen.flattened) s += `, flattened to ${seen.dim} features per image`;
  }
  return s;
}
