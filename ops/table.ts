/**
 * Plain-text tables for the ops CLI's output: columns padded to their widest cell, two spaces
 * apart, no trailing blanks.
 *
 * @module
 */

/** `header` and `rows` as aligned lines joined by newlines. */
export function formatTable(header: string[], rows: string[][]): string {
	const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
	return [header, ...rows]
		.map((cells) =>
			cells
				.map((c, i) => c.padEnd(widths[i]!))
				.join("  ")
				.trimEnd(),
		)
		.join("\n");
}
