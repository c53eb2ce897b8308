/**
 * The shape of an ops command. `run` returns the process exit code; errors it throws are
 * printed as `error: <message>`, so a message must say what failed, why, and how to fix it.
 *
 * @module
 */
export interface Command {
	/** One line for the command list. */
	summary: string;
	/** Full help: usage, options, examples. */
	help: string;
	run(args: string[]): Promise<number>;
}
