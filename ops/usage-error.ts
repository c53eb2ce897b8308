/**
 * The error for a command called the wrong way (a missing flag, a bad value, a missing
 * credential): nothing was changed, and the CLI exits with code 2.
 *
 * @module
 */
export class UsageError extends Error {
	override name = "UsageError";
}
