/**
 * Progress of the local load run: a live bar (cli-progress) on a terminal, and a plain line
 * every few seconds when the output is a file or a CI log, where a redrawn bar is only noise.
 *
 * @module
 */
import { Presets, SingleBar } from "cli-progress";

const LABELS = {
	send: { name: "sent   ", unit: "webhooks" },
	settle: { name: "settled", unit: "deposits" },
} as const;

export interface Progress {
	/** A new phase: ends the current bar and prints the phase's line. */
	phase(line: string): void;
	update(phase: keyof typeof LABELS, done: number, total: number): void;
	stop(): void;
}

/** Writes progress to stdout; `tty` decides between the live bar and plain lines. */
export function createProgress(tty = Boolean(process.stdout.isTTY), everyMs = 5_000): Progress {
	const started = Date.now();
	const clock = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`;
	let bar: SingleBar | undefined;
	let current: keyof typeof LABELS | undefined;
	let phaseStarted = 0;
	let lastLine = 0;
	let last = { done: 0, total: 0 };
	const rate = (done: number) => {
		const seconds = (Date.now() - phaseStarted) / 1000;
		return seconds > 0 ? `${(done / seconds).toFixed(0)}/s` : "";
	};
	const endPhase = () => {
		if (!current) return;
		if (bar) bar.stop();
		else
			console.log(
				`${clock()}   ${LABELS[current].name.trim()} ${last.done}/${last.total} ${LABELS[current].unit}`,
			);
		bar = undefined;
		current = undefined;
	};
	return {
		phase(line) {
			endPhase();
			console.log(`${clock()} ${line}`);
		},
		update(phase, done, total) {
			last = { done, total };
			if (current !== phase) {
				endPhase();
				current = phase;
				phaseStarted = Date.now();
				lastLine = phaseStarted;
				if (tty) {
					bar = new SingleBar(
						{
							format: `  ${LABELS[phase].name} |{bar}| {value}/{total} ${LABELS[phase].unit} | {rate} | {duration_formatted}`,
							hideCursor: true,
						},
						Presets.shades_classic,
					);
					bar.start(total, 0, { rate: "" });
				}
			}
			if (bar) {
				bar.update(done, { rate: rate(done) });
			} else if (Date.now() - lastLine >= everyMs) {
				lastLine = Date.now();
				console.log(
					`${clock()}   ${LABELS[phase].name.trim()} ${done}/${total} ${LABELS[phase].unit} (${rate(done)})`,
				);
			}
		},
		stop: endPhase,
	};
}
