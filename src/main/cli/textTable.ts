/**
 * Aligned text tables for the terminal: a header row, then one row per record; numbers right-
 * aligned, text left-aligned, long text cut with '…' at `maxWidth` characters.
 */
export interface Column<T> {
  header: string;
  value: (row: T) => string;
  align?: 'left' | 'right';
  maxWidth?: number;
}

export function textTable<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) =>
    columns.map((c) => {
      const v = c.value(r);
      return c.maxWidth && v.length > c.maxWidth ? `${v.slice(0, c.maxWidth - 1)}…` : v;
    }),
  );
  const widths = columns.map((c, j) => Math.max(c.header.length, ...cells.map((row) => row[j].length)));
  const line = (vals: string[]) =>
    vals
      .map((v, j) => (columns[j].align === 'right' ? v.padStart(widths[j]) : v.padEnd(widths[j])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}
