/**
 * The picture of a load run: one self-contained HTML file with inline SVG (nothing is fetched
 * when it is opened), two panels over the run's time axis: ack latency of every webhook, and
 * settle lag of every deposit (from its crediting webhook's 202 to `credited_at`), each with
 * the p50 and p99 of each time slice drawn over the points.
 *
 * @module
 */
import { percentile } from "../lib/open-model";

/** One measurement: `t` seconds since the run started, `ms` the value. */
export interface Point {
	t: number;
	ms: number;
}

interface ChartInput {
	title: string;
	/** Lines of figures printed above the panels. */
	figures: string[];
	ack: Point[];
	settle: Point[];
}

const WIDTH = 960;
const HEIGHT = 280;
const MARGIN = { left: 64, right: 16, top: 44, bottom: 36 };
/** Points drawn per panel at most; beyond that an even subsample (every k-th) is drawn. */
const MAX_POINTS = 6000;
/** At most this many time slices for the p50/p99 lines, each at least a second long. */
const MAX_SLICES = 80;

function escapeHtml(text: string): string {
	return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

/** A round step (1, 2 or 5 × 10^n) giving about `count` ticks up to `max`. */
function tickStep(max: number, count: number): number {
	const raw = max / count;
	const power = 10 ** Math.floor(Math.log10(raw || 1));
	const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
	return step;
}

function panel(label: string, unit: string, points: Point[], tMax: number, color: string): string {
	const values = points.map((p) => p.ms).sort((a, b) => a - b);
	// The axis ends a little above p99.5, so a few slow outliers do not flatten the rest;
	// points above it are drawn on the top edge, in red.
	const yMax = values.length ? Math.max(1, percentile(values, 99.5) * 1.15) : 1;
	const plotW = WIDTH - MARGIN.left - MARGIN.right;
	const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
	const x = (t: number) => MARGIN.left + (t / (tMax || 1)) * plotW;
	const y = (ms: number) => MARGIN.top + plotH - (Math.min(ms, yMax) / yMax) * plotH;
	const out: string[] = [
		`<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img">`,
	];
	out.push(`<text x="${MARGIN.left}" y="18" class="title">${escapeHtml(label)}</text>`);
	const yStep = tickStep(yMax, 5);
	for (let v = 0; v <= yMax; v += yStep) {
		out.push(
			`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y(v)}" y2="${y(v)}" class="grid"/>`,
			`<text x="${MARGIN.left - 6}" y="${y(v) + 4}" class="tick" text-anchor="end">${Number(v.toPrecision(6))} ${unit}</text>`,
		);
	}
	const tStep = tickStep(tMax, 10);
	for (let t = 0; t <= tMax; t += tStep) {
		out.push(
			`<text x="${x(t)}" y="${HEIGHT - MARGIN.bottom + 16}" class="tick" text-anchor="middle">${Number(t.toPrecision(6))} s</text>`,
		);
	}
	out.push(
		`<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 4}" class="tick" text-anchor="end">seconds since the first webhook</text>`,
	);
	if (points.length === 0) {
		out.push(`<text x="${WIDTH / 2}" y="${HEIGHT / 2}" class="tick" text-anchor="middle">no samples</text>`);
	}
	const stride = Math.max(1, Math.ceil(points.length / MAX_POINTS));
	const dots: string[] = [];
	for (let k = 0; k < points.length; k += stride) {
		const p = points[k] as Point;
		const clipped = p.ms > yMax;
		dots.push(
			`<circle cx="${x(p.t).toFixed(1)}" cy="${y(p.ms).toFixed(1)}" r="1.4" fill="${clipped ? "#c0392b" : color}"/>`,
		);
	}
	out.push(`<g fill-opacity="0.35">${dots.join("")}</g>`);
	// p50 and p99 per time slice.
	const slices = Math.max(1, Math.min(MAX_SLICES, Math.ceil(tMax)));
	const slice = (tMax || 1) / slices;
	const buckets: number[][] = Array.from({ length: slices + 1 }, () => []);
	for (const p of points) buckets[Math.min(slices, Math.floor(p.t / slice))]?.push(p.ms);
	for (const [p, style] of [
		[50, "p50"],
		[99, "p99"],
	] as const) {
		const path = buckets
			.map((b, k) => ({ b: b.sort((m, n) => m - n), k }))
			.filter(({ b }) => b.length > 0)
			.map(
				({ b, k }, n) =>
					`${n === 0 ? "M" : "L"}${x((k + 0.5) * slice).toFixed(1)},${y(percentile(b, p)).toFixed(1)}`,
			)
			.join(" ");
		if (path) out.push(`<path d="${path}" class="${style}"/>`);
	}
	out.push(
		`<text x="${MARGIN.left}" y="34" class="tick">points: ${stride === 1 ? "every sample" : `1 sample in ${stride}`} · lines: p50 (solid), p99 (dashed) per ${slice.toFixed(slice < 10 ? 1 : 0)} s · red: above the axis</text>`,
	);
	out.push("</svg>");
	return out.join("\n");
}

/** The HTML document. */
export function renderChart(input: ChartInput): string {
	const tMax = Math.max(1, ...input.ack.map((p) => p.t), ...input.settle.map((p) => p.t));
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(input.title)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 24px; color: #222; }
pre { background: #f6f6f6; padding: 12px; }
svg { display: block; margin: 16px 0; }
.title { font-weight: 600; font-size: 14px; }
.tick { font-size: 11px; fill: #555; }
.grid { stroke: #e4e4e4; }
.p50 { fill: none; stroke: #111; stroke-width: 1.6; }
.p99 { fill: none; stroke: #111; stroke-width: 1.6; stroke-dasharray: 5 3; }
</style></head><body>
<h1>${escapeHtml(input.title)}</h1>
<pre>${escapeHtml(input.figures.join("\n"))}</pre>
${panel("Ack latency of each webhook (request sent → 202 received)", "ms", input.ack, tMax, "#2471a3")}
${panel("Settle lag of each deposit (202 of its crediting webhook → credited_at)", "ms", input.settle, tMax, "#1e8449")}
</body></html>
`;
}
