/**
 * zod for the Workers: `zod/mini`, the same library with a functional, tree-shakable API (a
 * bundle keeps only the schemas and checks it calls, where `zod`'s classic methods bring all of
 * them), with the English messages that classic `zod` sets by default and mini does not, so
 * that every 422 reads as before. Import it as a namespace (`import * as z from ".../zod"`):
 * esbuild drops what a namespace import never touches.
 *
 * @module
 */

import { en } from "zod/locales";
import * as z from "zod/mini";

z.config(en());

export * from "zod/mini";

/** What a failed `safeParse` holds (classic zod's `z.ZodError`). */
export type ZodError<T = unknown> = z.core.$ZodError<T>;

/**
 * Reports a custom issue from inside a transform. Classic zod hands a transform a context with
 * `addIssue`; mini hands it the parse payload itself, so the issue goes onto the payload's list
 * as classic's `addIssue` puts it there (code "custom", the input it was given).
 */
export function addIssue(
	ctx: z.core.ParsePayload,
	issue: { message: string; path?: PropertyKey[]; params?: Record<string, unknown> },
): void {
	ctx.issues.push({ code: "custom", input: ctx.value, ...issue });
}
