/**
 * `ops addresses import|pool` against the local stack's admin API, as an operator uses it: an
 * admin made with `ops admin create` and logged in with a real TOTP code, a file exported by the
 * platform's wallet imported in chunks, its invalid lines reported by number, a rerun that
 * imports nothing twice, and a player then issued one of the file's addresses.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { signedInAdmin } from "./support/stack-admin";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;
let token: string;
let scratch: string;

const evm = () => `0x${randomBytes(20).toString("hex")}`;
const tron = () => createBase58check(sha256).encode(Uint8Array.from([0x41, ...randomBytes(20)]));

function file(name: string, lines: string[]): string {
	const path = join(scratch, name);
	writeFileSync(path, `${lines.join("\n")}\n`);
	return path;
}

beforeAll(async () => {
	scratch = mkdtempSync(join(tmpdir(), "cricalgo-addresses-"));
	stack = await startTestStack("addresses");
	token = await signedInAdmin(stack, "ops_addr");
});

afterAll(async () => {
	await stack?.stop();
	if (scratch) rmSync(scratch, { recursive: true, force: true });
});

const ops = (...args: string[]) =>
	runOps(["addresses", ...args, "--host", stack.baseUrl], { OPS_TOKEN: token });

async function api(path: string, init: { token?: string; body?: unknown } = {}) {
	const res = await fetch(`${stack.baseUrl}/api/v1${path}`, {
		method: init.body === undefined ? "GET" : "POST",
		headers: {
			...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
			...(init.body === undefined ? {} : { "content-type": "application/json" }),
		},
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("ops addresses", () => {
	const good = [evm(), evm(), evm(), evm(), evm()];

	it("imports a file in chunks, showing each chunk, and reports every invalid line by number", async () => {
		const path = file("evm.txt", [
			"# exported by the platform's wallet",
			good[0]!,
			good[1]!,
			"",
			"0x12345",
			good[2]!.toUpperCase().replace("0X", "0x"),
			good[3]!,
			tron(),
			`${good[4]!}   # the last one`,
		]);
		const run = await ops("import", path, "--family", "evm", "--chunk", "3");
		expect(run.code, run.output).toBe(1);
		expect(run.stdout).toContain("[1/3] lines 2–5: 2 imported, 0 already present, 1 invalid");
		expect(run.stdout).toContain("[2/3] lines 6–8: 2 imported, 0 already present, 1 invalid");
		expect(run.stdout).toContain("[3/3] lines 9–9: 1 imported, 0 already present, 0 invalid");
		expect(run.stdout).toMatch(/line 5: 0x12345: ✗ is not an EVM address/);
		expect(run.stdout).toMatch(/line 8: T\w+: ✗ is not an EVM address/);
		expect(run.stdout).toContain(`evm: 5 imported, 0 already present, 2 invalid (7 addresses in ${path})`);
		expect(run.stdout).toContain("fix them (or remove them) and run the command again");

		const again = await ops("import", path, "--family", "evm", "--json");
		expect(again.code).toBe(1);
		expect(JSON.parse(again.stdout)).toMatchObject({
			family: "evm",
			imported: 0,
			already_present: 5,
			invalid: 2,
			invalid_lines: [
				{ line: 5, address: "0x12345" },
				{ line: 8, address: expect.stringMatching(/^T/) },
			],
		});
	});

	it("shows the pool, and a player is then issued one of the file's addresses", async () => {
		const before = await ops("pool");
		expect(before.code, before.output).toBe(0);
		expect(before.stdout).toMatch(/^FAMILY\s+CHAINS\s+UNISSUED\s+ISSUED\s+RETIRED\s+ADMIN_REGISTERED$/m);
		expect(before.stdout).toMatch(/^evm\s+bep20,erc20\s+5\s+0\s+0\s+0$/m);
		expect(before.stdout).toMatch(/^tron\s+trc20\s+0\s+0\s+0\s+0$/m);
		expect(before.stdout).toContain("no unissued tron address");

		const username = `player_${randomBytes(3).toString("hex")}`;
		expect((await api("/register", { body: { username, password: "long-enough-pw" } })).status).toBe(201);
		const login = await api("/login", { body: { username, password: "long-enough-pw" } });
		const player = login.body.access_token as string;
		const issued = await api("/wallet/deposit-address", { token: player, body: { chain: "bep20" } });
		expect(issued.status).toBe(201);
		expect(good).toContain(issued.body.address);

		const after = await ops("pool", "--json");
		expect(JSON.parse(after.stdout).families[0]).toMatchObject({ family: "evm", unissued: 4, issued: 1 });
	});

	it("exits 2 without a family, a file or an action, and 4 when the token is refused", async () => {
		const path = file("tron.txt", [tron()]);
		const noFamily = await ops("import", path);
		expect(noFamily.code).toBe(2);
		expect(noFamily.stderr).toContain(
			"--family is required: evm (bep20 and erc20 addresses) or tron (trc20)",
		);
		const noFile = await ops("import", join(scratch, "missing.txt"), "--family", "tron");
		expect(noFile.code).toBe(2);
		expect(noFile.stderr).toContain("cannot read");
		const empty = await ops("import", file("empty.txt", ["# nothing yet"]), "--family", "tron");
		expect(empty.code).toBe(2);
		expect(empty.stderr).toContain("lists no address");
		const bare = await runOps(["addresses"]);
		expect(bare.code).toBe(2);
		expect(bare.stderr).toContain("addresses needs an action: import or pool");
		const refused = await runOps(["addresses", "pool", "--host", stack.baseUrl, "--token", "not-a-token"]);
		expect(refused.code).toBe(4);
		expect(refused.stderr).toContain("answered 401");
	});
});
