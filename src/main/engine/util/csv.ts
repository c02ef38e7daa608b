/**
 * The one CSV writer of the product (score lists, run exports): RFC 4180 quoting, and cells that
 * a spreadsheet would run as a formula escaped as OWASP recommends — a text cell starting with
 * = + - @ tab or carriage return gets a leading apostrophe (numbers are left alone, so "-1.5"
 * stays a number). A label folder named "=HYPERLINK(…)" is then shown, not executed.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  if (typeof v === 'boolean') return v ? '1' : '0';
  let s = v;
  if (FORMULA_START.test(s) && !Number.isFinite(Number(s))) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header row and data rows as CSV text (LF line ends, a final newline). */
export function toCsv(
  header: readonly string[],
  rows: Iterable<readonly (string | number | boolean | null | undefined)[]>,
): string {
  const lines = [header.map(csvCell).join(',')];
  for (const r of rows) lines.push(r.map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
