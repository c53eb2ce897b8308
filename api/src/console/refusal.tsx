/**
 * How a console page says no: a page with the reason and the status, and the admin API's error
 * envelope turned into the console's error (shown by its error handler).
 *
 * @module
 */
import type { Context } from "hono";
import { ApiError, type ErrorCode, STATUS_OF } from "../../../shared/http/errors";
import { Layout, Notice } from "./layout";
import type { ConsoleEnv } from "./session";

/** A page that refuses, with a way back. */
export function refusal(
	c: Context<ConsoleEnv>,
	status: 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503,
	title: string,
	message: string,
) {
	c.status(status);
	return c.html(
		<Layout title={title} admin={c.get("admin")}>
			<h1>{title}</h1>
			<Notice kind="error">{message}</Notice>
			<p>
				<a href="/console">Back to the console</a>
			</p>
		</Layout>,
	);
}

/** The admin API's refusal as an error the console's handler shows with its status. */
export function apiRefusal(answer: { status: number; body: { error?: { code: string; message: string } } }) {
	const code = answer.body.error?.code;
	return new ApiError(
		code && code in STATUS_OF ? (code as ErrorCode) : "internal_error",
		answer.body.error?.message ?? `the admin API answered ${answer.status}`,
	);
}
