import { describe, expect, it } from "vitest";
import { describeError } from "../admin-api";

describe("describeError", () => {
	it("says the code, the message, each failing field and the request id to quote", () => {
		expect(
			describeError({
				ok: false,
				error: {
					code: "validation_failed",
					message: "the body is not valid",
					request_id: "8f3a9c1e2b4d5e6f-AMS",
					fields: [
						{ path: "user_id", message: "must be a uuid" },
						{ path: "addresses.0", message: "must be 0x followed by 40 hex digits" },
					],
				},
			}),
		).toBe(
			"validation_failed: the body is not valid (user_id: must be a uuid; addresses.0: must be 0x followed by 40 hex digits), request 8f3a9c1e2b4d5e6f-AMS",
		);
		expect(
			describeError({
				ok: false,
				error: { code: "not_found", message: "no such deposit", request_id: "r1" },
			}),
		).toBe("not_found: no such deposit, request r1");
	});

	it("shows a body that is not the envelope as it came", () => {
		expect(describeError("<html>bad gateway</html>")).toBe("<html>bad gateway</html>");
		expect(describeError({ status: "ok" })).toBe('{"status":"ok"}');
	});
});
