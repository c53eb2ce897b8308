import { Secret, TOTP, URI } from "otpauth";
import { afterAll, describe, expect, inject, it } from "vitest";
import { verifyPassword } from "../../shared/password";
import { matchTotp } from "../../shared/totp";
import { runAdminCreate } from "../commands/admin-create";
import { openDatabaseClient } from "../database-client";

const neonEnv = () => ({
	DATABASE_URL: inject("databaseUrls").node,
	NEON_HTTP_ENDPOINT: inject("neonEndpoint"),
});
const created: string[] = [];

function capture(password = "a-long-admin-password") {
	const lines: string[] = [];
	return {
		lines,
		io: { log: (line: string) => lines.push(line), password: async () => password },
	};
}

async function adminRow(username: string) {
	const db = await openDatabaseClient(neonEnv());
	try {
		const [row] = await db.query(
			`SELECT a.id, a.password_hash, a.email, a.totp_secret,
				(SELECT count(*)::int FROM audit_logs l WHERE l.admin_id = a.id AND l.action = 'admin.create') AS audits
			 FROM admins a WHERE a.username = $1`,
			[username],
		);
		return row;
	} finally {
		await db.close();
	}
}

afterAll(async () => {
	const db = await openDatabaseClient(neonEnv());
	try {
		await db.query("DELETE FROM admins WHERE username = ANY($1::text[])", [created]);
	} finally {
		await db.close();
	}
});

function uniqueAdmin() {
	const name = `ops_admin_${Date.now().toString(36)}_${created.length}`;
	created.push(name);
	return name;
}

describe("ops admin create (through the Neon HTTP endpoint)", () => {
	it("stores a hashed password and a TOTP secret, and prints the provisioning URI and a QR code", async () => {
		const username = uniqueAdmin();
		const { lines, io } = capture();
		const code = await runAdminCreate(["--username", username, "--email", "ops@example.com"], neonEnv(), io);
		expect(code).toBe(0);

		const uriLine = lines.find((l) => l.startsWith("otpauth://"));
		expect(uriLine).toBeDefined();
		const totp = URI.parse(uriLine!) as TOTP;
		expect(totp).toBeInstanceOf(TOTP);
		expect(totp).toMatchObject({
			issuer: "CricAlgo",
			label: username,
			digits: 6,
			period: 30,
			algorithm: "SHA1",
		});
		// The QR block is printed with terminal block characters.
		expect(lines.some((l) => /[█▀▄]/.test(l))).toBe(true);

		const row = await adminRow(username);
		expect(row).toMatchObject({ email: "ops@example.com", totp_secret: totp.secret.base32, audits: 1 });
		expect(String(row!.password_hash)).toMatch(/^pbkdf2_sha256\$100000\$/);
		expect(await verifyPassword("a-long-admin-password", row!.password_hash as string)).toBe(true);
		// What the phone shows now is what the API Worker accepts.
		const shown = new TOTP({ secret: Secret.fromBase32(totp.secret.base32) }).generate();
		expect(matchTotp(row!.totp_secret as string, shown)).not.toBeNull();
		expect(lines.join("\n")).not.toContain("a-long-admin-password");
	});

	it("takes --password and can leave out the QR code", async () => {
		const username = uniqueAdmin();
		const { lines, io } = capture("never-asked-for-this");
		const code = await runAdminCreate(
			["--username", username, "--password", "given-on-the-command-line", "--no-qr"],
			neonEnv(),
			io,
		);
		expect(code).toBe(0);
		expect(lines.some((l) => /[█▀▄]/.test(l))).toBe(false);
		const row = await adminRow(username);
		expect(await verifyPassword("given-on-the-command-line", row!.password_hash as string)).toBe(true);
	});

	it("refuses a taken username with a message that says what to do, and changes nothing", async () => {
		const username = uniqueAdmin();
		await runAdminCreate(["--username", username, "--no-qr"], neonEnv(), capture().io);
		const before = await adminRow(username);
		await expect(
			runAdminCreate(["--username", username, "--no-qr"], neonEnv(), capture().io),
		).rejects.toThrow(`an admin named "${username}" already exists: choose another --username`);
		expect(await adminRow(username)).toEqual(before);
	});

	it("refuses bad input before touching the database", async () => {
		const env = { DATABASE_URL: "postgres://nowhere.invalid/db" };
		await expect(runAdminCreate([], env, capture().io)).rejects.toThrow(/--username is required/);
		await expect(
			runAdminCreate(["--username", "x'; DROP TABLE admins; --"], env, capture().io),
		).rejects.toThrow(/--username is required/);
		await expect(
			runAdminCreate(["--username", "ops_ok", "--email", "nope"], env, capture().io),
		).rejects.toThrow(/not an email address/);
		await expect(runAdminCreate(["--username", "ops_ok"], env, capture("short").io)).rejects.toThrow(
			/12 to 256 characters/,
		);
		await expect(runAdminCreate(["--username", "ops_ok"], {}, capture().io)).rejects.toThrow(
			/no database given: set DATABASE_URL/,
		);
	});
});

// The pg path needs a Postgres server the test can reach over TCP; the embedded database is
// only reachable through the Neon HTTP endpoint, so this runs when TEST_DATABASE_URL is set.
describe.runIf(process.env.TEST_DATABASE_URL)(
	"ops admin create (over pg, as against Neon or any Postgres)",
	() => {
		it("creates the admin through a pg connection", async () => {
			const username = uniqueAdmin();
			const { lines, io } = capture();
			const code = await runAdminCreate(
				["--username", username, "--no-qr"],
				{ DATABASE_URL: inject("databaseUrls").node },
				io,
			);
			expect(code).toBe(0);
			expect(lines[0]).toMatch(/^creating admin .* in postgres(ql)?:\/\//);
			const row = await adminRow(username);
			expect(await verifyPassword("a-long-admin-password", row!.password_hash as string)).toBe(true);
		});

		it("says how to fix an unreachable server", async () => {
			await expect(
				runAdminCreate(
					["--username", "ops_x"],
					{ DATABASE_URL: "postgres://postgres@127.0.0.1:9/none" },
					capture().io,
				),
			).rejects.toThrow(
				/could not connect to postgres:\/\/postgres@127\.0\.0\.1:9\/none.*Check DATABASE_URL/,
			);
		});
	},
);
