/**
 * Aligns rows into columns: the first column left-aligned, the others right-aligned (numbers).
 * Rows may be shorter than the widest; missing cells print empty.
 */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      widths
        .map((w, i) => {
          const cell = row[i] ?? '';
          return i === 0 ? cell.padEnd(w) : cell.padStart(w);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
