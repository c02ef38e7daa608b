/**
 * Delimited text tables (CSV/TSV): a header row, then one sample per row with a finite
 * number in every feature cell; an optional named label column holds 0/1 labels.
 * Every problem is a UserError naming the file, the line (1-based, header = line 1 as a
 * text editor shows it) and the column.
 */
import { parse } from 'csv-parse/sync';
import { UserError } from '../util/errors';
import { checkFeatureColumns } from './featureLimit';
import { readInputFile } from './read-file';
import type { Table } from './tableData';

export type Delimiter = ',' | ';' | '\t';

export interface CsvOptions {
  /** Name of the label column; excluded from the features, values must be 0 or 1. */
  labelColumn?: string;
  /** Field delimiter; sniffed from the header line when omitted. */
  delimiter?: Delimiter;
}

const FLOAT32_MAX = 3.4028234663852886e38;
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = /^(?:nan|na|n\/a|null|none|missing|\?|-|\.)$/i;
const INFINITE = /^[+-]?(?:inf|infinity)$/i;
const MISSING_HINT =
  'Fill in or drop rows with missing values before loading (e.g. df.dropna() in pandas); missing values are not imputed.';

/** Read a delimited text file (header row required) into a Table. */
export function readCsvTable(file: string, opts: CsvOptions = {}): Table {
  return parseCsvTable(readInputFile(file), file, opts);
}

/** Pick ',', ';' or tab: the one occurring most often (outside quotes) on the first non-blank line. */
export function sniffDelimiter(text: string): Delimiter {
  const counts = delimiterCounts(firstLine(text));
  let best: Delimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/** The first non-blank line, found without splitting or copying the whole text. */
function firstLine(text: string): string {
  const lineBreak = /[\r\n]/g;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (start < text.length) {
    lineBreak.lastIndex = start;
    const end = lineBreak.exec(text)?.index ?? text.length;
    const line = text.slice(start, end);
    if (line.trim().length > 0) return line;
    start = end + 1;
  }
  return '';
}

function delimiterCounts(line: string): Record<Delimiter, number> {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  return counts;
}

type Cell = { ok: true; value: number } | { ok: false; problem: string; hint: string };

/** Parse one cell strictly: decimal numbers only, finite and representable as float32. */
function parseCell(raw: string, delimiter: Delimiter, singleColumn: boolean): Cell {
  const s = raw.trim();
  if (NUMBER.test(s)) {
    const value = Number(s);
    if (Math.abs(value) > FLOAT32_MAX) {
      return {
        ok: false,
        problem: `"${truncate(s)}" is too large for 32-bit floats (limit ±3.4e38)`,
        hint: 'Rescale the column (e.g. change units or log-transform it) so every value stays below 3.4e38.',
      };
    }
    return { ok: true, value };
  }
  if (s === '') return { ok: false, problem: 'empty cell (missing value)', hint: MISSING_HINT };
  if (MISSING.test(s)) return { ok: false, problem: `"${s}" is a missing value`, hint: MISSING_HINT };
  if (INFINITE.test(s)) {
    return {
      ok: false,
      problem: `"${s}" is infinite`,
      hint: 'Replace infinite values with finite ones (e.g. clip to the column maximum) or drop the row.',
    };
  }
  let hint =
    'Every feature column must be numeric: fix the cell, drop the row, or encode a categorical column as numbers (e.g. one-hot) before loading.';
  if (/^[+-]?\d+,\d+$/.test(s) && delimiter !== ',') {
    hint =
      "Use '.' as the decimal separator (e.g. 1.5, not 1,5); re-export the file with a '.' decimal point.";
  } else if (/^[+-]?\d{1,3}(?:[,' ]\d{3})+(?:\.\d+)?$/.test(s)) {
    hint = 'Remove thousands separators (write 1234567.5, not 1,234,567.5).';
  } else if (singleColumn && /\s/.test(s)) {
    hint =
      "The file seems to use a delimiter other than ',', ';' or tab (spaces?). Convert it to comma-separated with a header row.";
  }
  return { ok: false, problem: `"${truncate(s)}" is not a number`, hint };
}

/** `s` as shown in a message: cut to `n` characters, control characters (a quoted line break…) escaped. */
function truncate(s: string, n = 40): string {
  const cut = s.length > n ? s.slice(0, n) + '…' : s;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** A column name as shown in a message. */
const col = (name: string): string => truncate(name, 80);

function exampleHeader(n: number, delimiter: Delimiter): string {
  const d = delimiter === '\t' ? '\\t' : delimiter;
  const names = Array.from({ length: Math.min(n, 3) }, (_, i) => `f${i}`);
  return names.join(d) + (n > 3 ? `${d}…${d}f${n - 1}` : '');
}

interface ParsedRecord {
  record: string[];
  info: { lines: number };
}

/** Parse the bytes (or text) of a delimited file; `source` names it in messages. */
export function parseCsvTable(input: Buffer | string, source: string, opts: CsvOptions = {}): Table {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  if (buf.length === 0) {
    throw new UserError(
      `"${source}" is empty (0 bytes)`,
      'Export the table with a header row naming the columns, followed by one row per sample.',
    );
  }
  if (buf.length >= 2 && buf[0] === 0x50 && buf[1] === 0x4b) {
    throw new UserError(
      `"${source}" is a zip archive (an Excel .xlsx workbook?), not a delimited text file`,
      'Save the sheet as CSV (File → Save As → CSV) and load that file.',
    );
  }
  if (buf.subarray(0, 4096).includes(0)) {
    throw new UserError(
      `"${source}" is a binary file, not delimited text`,
      'Load a CSV/TSV text file with a header row, or give a NumPy array the .npy extension.',
    );
  }
  const text = buf.toString('utf8');
  if (text.replace(/^\uFEFF/, '').trim() === '') {
    throw new UserError(
      `"${source}" contains only blank lines`,
      'Export the table with a header row naming the columns, followed by one row per sample.',
    );
  }
  const delimiter = opts.delimiter ?? sniffDelimiter(text);
  const delimName = delimiter === '\t' ? 'tab' : `'${delimiter}'`;
  // a table far too wide is refused from its header line, before its cells are parsed (a 1e6-column
  // file would take seconds and gigabytes); the exact count is checked again below
  const headerCells = delimiterCounts(firstLine(text))[delimiter] + 1;
  checkFeatureColumns(headerCells - (opts.labelColumn ? 1 : 0), `"${source}"`);

  let records: ParsedRecord[];
  try {
    records = parse(text, {
      delimiter,
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
    }) as unknown as ParsedRecord[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    const where = typeof err.lines === 'number' ? ` line ${err.lines}` : '';
    throw new UserError(
      `"${source}"${where}: cannot parse the file (${err.message})`,
      'Check the quotes on that line: a value that starts with a double quote must end with one, and quotes inside a value must be doubled ("").',
    );
  }

  // --- header ---
  const header = records[0].record;
  const headerLine = records[0].info.lines;
  const at = (line: number) => `"${source}" line ${line}`;
  header.forEach((name, i) => {
    if (name === '') {
      const trailing = i === header.length - 1;
      throw new UserError(
        `${at(headerLine)} (header), column ${i + 1}: empty column name`,
        trailing
          ? `Remove the trailing ${delimName} at the end of the header line, or name the last column.`
          : 'Give every column a name in the header row.',
      );
    }
  });
  const seen = new Map<string, number>();
  header.forEach((name, i) => {
    const j = seen.get(name);
    if (j !== undefined) {
      throw new UserError(
        `${at(headerLine)} (header): column name "${col(name)}" appears twice (columns ${j + 1} and ${i + 1})`,
        'Give every column a distinct name.',
      );
    }
    seen.set(name, i);
  });
  if (header.every((h) => NUMBER.test(h) || MISSING.test(h) || INFINITE.test(h))) {
    throw new UserError(
      `${at(headerLine)} looks like data, not a header row: ${truncate(header.join(delimiter === '\t' ? ' ' : delimiter), 60)}`,
      `Add a header row naming the columns as the first line, e.g. ${exampleHeader(header.length, delimiter)}.`,
    );
  }

  // --- label column ---
  let labelIdx = -1;
  const labelColumn = opts.labelColumn ?? null;
  if (labelColumn !== null) {
    labelIdx = header.indexOf(labelColumn);
    if (labelIdx < 0) {
      const near = header.find((h) => h.toLowerCase() === labelColumn.toLowerCase());
      throw new UserError(
        `"${source}" has no label column "${col(labelColumn)}"; available columns: ${header
          .slice(0, 20)
          .map((h) => `"${col(h)}"`)
          .join(', ')}${header.length > 20 ? `, … (${header.length - 20} more)` : ''}`,
        near
          ? `Column names are case-sensitive: did you mean "${near}"?`
          : 'Name one of the available columns as the label column, or leave the option out if the file has no labels.',
      );
    }
  }
  const featureIdx = header.map((_, i) => i).filter((i) => i !== labelIdx);
  if (featureIdx.length === 0) {
    throw new UserError(
      `"${source}" has no feature columns: its only column is the label column "${col(labelColumn!)}"`,
      'Add numeric feature columns next to the label column.',
    );
  }

  const nRows = records.length - 1;
  if (nRows === 0) {
    throw new UserError(
      `"${source}" has a header (line ${headerLine}) but no data rows`,
      'Add one row per sample below the header.',
    );
  }

  // --- data rows ---
  const nCols = featureIdx.length;
  checkFeatureColumns(nCols, `"${source}"`);
  const x = new Float32Array(nRows * nCols);
  const labels = labelIdx >= 0 ? new Float32Array(nRows) : null;
  const singleColumn = header.length === 1;
  for (let r = 0; r < nRows; r++) {
    const { record, info } = records[r + 1];
    const line = info.lines;
    if (record.length !== header.length) {
      const trailingEmpty = record.length === header.length + 1 && record[record.length - 1] === '';
      throw new UserError(
        `${at(line)} has ${record.length} cell${record.length === 1 ? '' : 's'}, but the header (line ${headerLine}) has ${header.length} columns`,
        trailingEmpty
          ? `Remove the trailing ${delimName} at the end of line ${line}.`
          : `Every row needs exactly one value per column: look for a missing or extra ${delimName} on line ${line}, or an unquoted ${delimName} inside a value.`,
      );
    }
    for (let k = 0; k < nCols; k++) {
      const c = featureIdx[k];
      const cell = parseCell(record[c], delimiter, singleColumn);
      if (!cell.ok)
        throw new UserError(`${at(line)}, column "${col(header[c])}": ${cell.problem}`, cell.hint);
      x[r * nCols + k] = cell.value;
    }
    if (labels) {
      const raw = record[labelIdx];
      const cell = parseCell(raw, delimiter, false);
      if (!cell.ok || (cell.value !== 0 && cell.value !== 1)) {
        const problem = cell.ok ? `label "${truncate(raw)}" is neither 0 nor 1` : `label ${cell.problem}`;
        throw new UserError(
          `${at(line)}, column "${col(labelColumn!)}": ${problem}`,
          'Labels must be 0 (normal) or 1 (anomaly); recode other schemes (e.g. -1/1, "yes"/"no") before loading.',
        );
      }
      labels[r] = cell.value;
    }
  }

  return {
    source,
    columns: featureIdx.map((i) => header[i]),
    x: { rows: nRows, cols: nCols, data: x },
    labels,
    labelColumn,
  };
}
