/**
 * A Postgres cluster of a test's own, made with `initdb` in a temporary folder and run with
 * `pg_ctl` on a free port of 127.0.0.1, so a test can crash it (immediate shutdown) and start
 * it again without touching any server that others use. Under root the server runs as the
 * `postgres` user (Postgres refuses to run as root).
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ThrowawayPostgres {
	/** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
	readonly url: string;
	readonly port: number;
	/** `pg_ctl stop -m immediate`: every backend killed at once, as in a crash. */
	crash(): void;
	/** Starts the server again on the same port and folder (crash recovery runs). */
	start(): void;
	/** Stops the server and removes its folder. */
	remove(): void;
}

/** The folder of `initdb` and `pg_ctl`: `PG_BIN`, else Debian's newest, else from PATH. */
export function postgresBinaries(): string | undefined {
	if (process.env.PG_BIN) return process.env.PG_BIN;
	const debian = "/usr/lib/postgresql";
	if (existsSync(debian)) {
		const versions = readdirSync(debian)
			.filter((v) => existsSync(join(debian, v, "bin", "initdb")))
			.sort((a, b) => Number(b) - Number(a));
		if (versions[0]) return join(debian, versions[0], "bin");
	}
	const which = spawnSync("sh", ["-c", "command -v initdb"], { encoding: "utf8" });
	const found = which.stdout.trim();
	return found ? found.replace(/\/initdb$/, "") : undefined;
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

/** uid and gid of the `postgres` user when we are root (Postgres refuses root). */
function serverUser(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
	const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim());
	return { uid, gid };
}

export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
	const bin = postgresBinaries();
	if (!bin) throw new Error("initdb not found: install PostgreSQL's server package or set PG_BIN");
	const folder = mkdtempSync(join(tmpdir(), "cricalgo-pg-"));
	const dataDir = join(folder, "data");
	const user = serverUser();
	if (user) chownSync(folder, user.uid, user.gid);
	const run = (tool: string, args: string[]) => {
		const result = spawnSync(join(bin, tool), args, {
			encoding: "utf8",
			cwd: folder,
			...(user ?? {}),
			timeout: 60_000,
		});
		if (result.status !== 0) {
			throw new Error(
				`${tool} ${args.join(" ")} failed (${result.status}): ${result.stderr}${result.stdout}`,
			);
		}
	};
	run("initdb", ["-D", dataDir, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]);
	const port = await freePort();
	const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${folder} -c fsync=off -c max_connections=60`;
	const start = () =>
		run("pg_ctl", ["start", "-w", "-t", "60", "-D", dataDir, "-o", options, "-l", join(folder, "log")]);
	start();
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		port,
		crash: () => run("pg_ctl", ["stop", "-m", "immediate", "-D", dataDir]),
		start,
		remove() {
			spawnSync(join(bin, "pg_ctl"), ["stop", "-m", "immediate", "-D", dataDir], { ...(user ?? {}) });
			rmSync(folder, { recursive: true, force: true });
		},
	};
}
