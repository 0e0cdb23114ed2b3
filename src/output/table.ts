// Plain-text tables for the CLI: each column as wide as its longest cell,
// header included, so a long node name moves the columns after it instead
// of pushing its row out of line.

export interface ColumnOptions {
  /** Spaces between columns (default 2). */
  gap?: number;
  /** Smallest width of each column, to line up with another table. */
  minWidths?: number[];
}

/** The rows as lines; the last column is not padded, trailing blanks are dropped. */
export function columns(rows: string[][], o: ColumnOptions = {}): string[] {
  const widths: number[] = [...(o.minWidths ?? [])];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  const sep = ' '.repeat(o.gap ?? 2);
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]) : cell)).join(sep).trimEnd());
}
