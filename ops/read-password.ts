/**
 * Reads a password without echoing it: from the terminal in raw mode, or, when standard input
 * is not a terminal (a pipe, CI), its first line.
 *
 * @module
 */
import { createInterface } from "node:readline";

async function firstLine(): Promise<string> {
	const lines = createInterface({ input: process.stdin });
	for await (const line of lines) {
		lines.close();
		return line;
	}
	return "";
}

function hidden(prompt: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const stdin = process.stdin;
		let typed = "";
		process.stderr.write(prompt);
		stdin.setRawMode(true);
		stdin.resume();
		stdin.setEncoding("utf8");
		const done = (error?: Error) => {
			stdin.setRawMode(false);
			stdin.pause();
			stdin.off("data", onData);
			process.stderr.write("\n");
			if (error) reject(error);
			else resolve(typed);
		};
		const onData = (chunk: string) => {
			for (const ch of chunk) {
				if (ch === "\r" || ch === "\n") return done();
				if (ch === "\u0003") return done(new Error("cancelled"));
				if (ch === "\u007f" || ch === "\b") typed = typed.slice(0, -1);
				else typed += ch;
			}
		};
		stdin.on("data", onData);
	});
}

/** Asks twice in a terminal (a typo would lock the admin out); reads one line otherwise. */
export async function readPassword(prompt: string): Promise<string> {
	if (!process.stdin.isTTY) return firstLine();
	const first = await hidden(prompt);
	const second = await hidden("again: ");
	if (first !== second) throw new Error("the two passwords differ; run the command again");
	return first;
}
