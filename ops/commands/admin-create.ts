/**
 * `ops admin create --username X [--email E] [--password P]`: creates an admin account with a
 * fresh TOTP secret and prints its provisioning URI (otpauth://) and a QR code to scan with an
 * authenticator app. The secret is shown once; the database keeps it for verification, and
 * keeps only a PBKDF2 hash of the password (the same format the edge Worker checks).
 *
 * The password comes from `--password`, else from a hidden prompt in a terminal, else from the
 * first line of standard input (`printf '%s\n' "$PW" | npm run ops -- admin create ...`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import QRCode from "qrcode";
import * as z from "../../schema/zod";
import { hashPassword } from "../../shared/password";
import { newTotpSecret } from "../../shared/totp";
import { openDatabaseClient } from "../database-client";
import { readPassword } from "../read-password";
import type { Command } from "./command";

const usernameSchema = z.string().check(z.regex(/^[A-Za-z0-9_.-]{3,64}$/));
const emailSchema = z.email().check(z.maxLength(255));
const MIN_ADMIN_PASSWORD = 12;

const HELP = `usage: npm run ops -- admin create --username <name> [options]

Creates an admin of the CricAlgo API. Admins log in at POST /api/v1/login with
{username, password, totp}. Prints the TOTP provisioning URI and a QR code: scan it with an
authenticator app now, the secret is not shown again.

  --username <name>    3 to 64 letters, digits, '_', '.' or '-' (required)
  --email <address>    contact address, stored with the admin
  --password <pw>      at least ${MIN_ADMIN_PASSWORD} characters; prompted for (hidden) when omitted.
                       Passing it here leaves it in the shell's history: prefer the prompt, or
                       pipe it on standard input.
  --no-qr              print the URI only

The database: DATABASE_URL (pg; Neon URLs work as is). When NEON_HTTP_ENDPOINT is set, the
command goes through that Neon HTTP endpoint instead (the local stack).`;

/** Output and input of the command, replaceable in tests. */
interface AdminCreateIo {
	log(line: string): void;
	password(): Promise<string>;
}

const defaultIo: AdminCreateIo = {
	log: (line) => console.log(line),
	password: () => readPassword("password for the new admin: "),
};

const INSERT_ADMIN = `
WITH a AS (
	INSERT INTO admins (username, password_hash, email, totp_secret) VALUES ($1::text, $2::text, $3::text, $4::text)
	RETURNING id
), log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT id, 'admin.create', jsonb_build_object('username', $1::text, 'email', $3::text, 'source', 'ops') FROM a
)
SELECT id FROM a`;

/** `admin create`, with its environment and input/output given (the CLI passes the process's). */
export async function runAdminCreate(
	args: string[],
	env: { DATABASE_URL?: string; NEON_HTTP_ENDPOINT?: string } = process.env,
	io: AdminCreateIo = defaultIo,
): Promise<number> {
	const { values } = parseArgs({
		args,
		options: {
			username: { type: "string" },
			email: { type: "string" },
			password: { type: "string" },
			"no-qr": { type: "boolean", default: false },
		},
	});
	const username = usernameSchema.safeParse(values.username ?? "");
	if (!username.success) {
		throw new Error(
			"--username is required: 3 to 64 letters, digits, '_', '.' or '-' (e.g. --username ops_alice)",
		);
	}
	const email = values.email === undefined ? null : emailSchema.safeParse(values.email);
	if (email && !email.success) throw new Error(`--email "${values.email}" is not an email address`);
	const password = values.password ?? (await io.password());
	if (password.length < MIN_ADMIN_PASSWORD || password.length > 256) {
		throw new Error(`the admin's password must be ${MIN_ADMIN_PASSWORD} to 256 characters long`);
	}

	const db = await openDatabaseClient(env);
	const { secret, uri } = newTotpSecret(username.data);
	let id: string;
	try {
		io.log(`creating admin "${username.data}" in ${db.description} …`);
		const [row] = await db.query<{ id: string }>(INSERT_ADMIN, [
			username.data,
			await hashPassword(password),
			email?.data ?? null,
			secret,
		]);
		id = row!.id;
	} catch (error) {
		if ((error as { code?: string }).code === "23505") {
			throw new Error(`an admin named "${username.data}" already exists: choose another --username`);
		}
		if ((error as { code?: string }).code === "42P01") {
			throw new Error("the admins table does not exist: apply the migrations first (npm run ops -- migrate)");
		}
		throw error;
	} finally {
		await db.close();
	}

	io.log(`admin "${username.data}" created (id ${id})`);
	io.log("add it to an authenticator app now; the secret is not shown again:");
	io.log(uri);
	if (!values["no-qr"]) io.log(await QRCode.toString(uri, { type: "terminal", small: true }));
	io.log(
		`log in with: POST /api/v1/login {"username": "${username.data}", "password": "…", "totp": "<6 digits>"}`,
	);
	return 0;
}

/** `ops admin <subcommand>`; `create` for now. */
export const admin: Command = {
	summary: "manage admins of the API (create: new admin with a TOTP secret and its QR code)",
	help: HELP,
	async run(args) {
		const [sub, ...rest] = args;
		if (sub !== "create") {
			console.error(`unknown admin subcommand "${sub ?? ""}"\n\n${HELP}`);
			return 2;
		}
		return runAdminCreate(rest);
	},
};
