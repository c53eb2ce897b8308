/**
 * Requests and answers as a client sees them, for the tests of both HTTP Workers (inside
 * workerd): a client address per test, the response JSON, and the one error envelope.
 *
 * @module
 */
import { expect } from "vitest";

let ipCounter = 0;
/** A client address of its own, so one test's requests never use another's rate-limit budget. */
export function freshIp(): string {
	ipCounter++;
	return `198.18.${(ipCounter >> 8) & 255}.${ipCounter & 255}`;
}

/** Response JSON (typed loosely: tests assert its shape). */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response documents
export async function json(res: Response): Promise<any> {
	return res.json();
}

/**
 * Asserts the common error envelope, with the request id its header names, and returns the error
 * without that id (it differs on every request, so two answers compare equal when all else is).
 */
export async function expectError(res: Response, status: number, code: string) {
	const body = await json(res);
	const requestId = res.headers.get("request-id");
	expect(requestId).toMatch(/^\S+$/);
	expect({ status: res.status, body }).toMatchObject({
		status,
		body: { ok: false, error: { code, message: expect.any(String), request_id: requestId } },
	});
	const { request_id: _, ...error } = body.error;
	return error as { code: string; message: string; [key: string]: unknown };
}
