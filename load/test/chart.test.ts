/**
 * The load run's chart is one self-contained HTML file: it must open anywhere without fetching
 * anything, and show both panels with what was measured.
 */
import { describe, expect, it } from "vitest";
import { renderChart } from "../local/chart";

const points = (n: number, ms: (k: number) => number) =>
	Array.from({ length: n }, (_, k) => ({ t: k / 100, ms: ms(k) }));

describe("load run chart", () => {
	const html = renderChart({
		title: "Local load run <test>",
		figures: ["ack latency p50 9 ms"],
		ack: points(20_000, (k) => 5 + (k % 10)),
		settle: [...points(999, () => 300), { t: 5, ms: 60_000 }],
	});

	it("references nothing outside the file", () => {
		expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
	});

	it("draws both panels with their points, subsampled beyond a bound", () => {
		const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
		expect(svgs).toHaveLength(2);
		const circles = (svg: string) => (svg.match(/<circle /g) ?? []).length;
		expect(circles(svgs[0] ?? "")).toBeLessThanOrEqual(6000);
		expect(circles(svgs[0] ?? "")).toBeGreaterThan(1000);
		expect(circles(svgs[1] ?? "")).toBe(1000);
		expect(svgs[0]).toContain("Ack latency");
		expect(svgs[1]).toContain("Settle lag");
	});

	it("keeps one outlier from flattening the rest: it is drawn on the top edge, in red", () => {
		const settle = (html.match(/<svg[\s\S]*?<\/svg>/g) ?? [])[1] ?? "";
		expect((settle.match(/fill="#c0392b"/g) ?? []).length).toBe(1);
	});

	it("escapes the title and figures", () => {
		expect(html).toContain("Local load run &lt;test&gt;");
		expect(html).not.toContain("<test>");
	});
});
