/**
 * A throwaway Postgres cluster for the settlement benchmark: initdb into a temporary folder,
 * started on a free 127.0.0.1 port with `pg_stat_statements` preloaded (per-statement time,
 * buffers and WAL need it loaded at server start), stopped and removed afterwards. Nothing
 * else writes to it, so its WAL position and statistics are the benchmark's alone, and no
 * shared server is restarted or reconfigured.
 *
 * Postgres refuses to run as root: as root, the cluster's programs run as the `postgres` user
 * (Debian's packages create it).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ScratchPostgres {
	/** e.g. `postgres://postgres@127.0.0.1:54321/postgres`. */
	url: string;
	stop(): void;
}

/** The folder of Postgres's server programs: `pg_config --bindir`, else Debian's newest. */
function binDir(): string {
	const fromConfig = spawnSync("pg_config", ["--bindir"], { encoding: "utf8" });
	const dir = fromConfig.status === 0 ? fromConfig.stdout.trim() : "";
	if (dir && existsSync(join(dir, "initdb"))) return dir;
	const debian = "/usr/lib/postgresql";
	const versions = existsSync(debian)
		? readdirSync(debian)
				.filter((v) => existsSync(join(debian, v, "bin", "initdb")))
				.sort((a, b) => Number(b) - Number(a))
		: [];
	if (!versions.length) {
		throw new Error(
			"cannot find Postgres's initdb (neither `pg_config --bindir` nor /usr/lib/postgresql/*/bin has it): install the PostgreSQL server package, or give BENCH_DATABASE_URL a server that preloads pg_stat_statements",
		);
	}
	return join(debian, versions[0]!, "bin");
}

/** uid and gid of the `postgres` user, when this process is root. */
function runAs(): { uid: number; gid: number } | undefined {
	if (process.getuid?.() !== 0) return undefined;
	const line = readFileSync("/etc/passwd", "utf8")
		.split("\n")
		.find((l) => l.startsWith("postgres:"));
	if (!line)
		throw new Error(
			"running as root, and there is no `postgres` user to run a scratch cluster as (Postgres refuses root)",
		);
	const [, , uid, gid] = line.split(":");
	return { uid: Number(uid), gid: Number(gid) };
}

async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** Starts the cluster; `stop()` stops it and removes its folder. */
export async function startScratchPostgres(): Promise<ScratchPostgres> {
	const bin = binDir();
	const user = runAs();
	const dir = mkdtempSync(join(tmpdir(), "cricalgo-bench-pg-"));
	if (user) chownSync(dir, user.uid, user.gid);
	const data = join(dir, "data");
	const run = (program: string, args: string[]) => {
		const result = spawnSync(join(bin, program), args, { encoding: "utf8", ...user, cwd: dir });
		if (result.status !== 0) {
			throw new Error(`${program} ${args.join(" ")} failed:\n${result.stderr}${result.stdout}`);
		}
	};
	const port = await freePort();
	try {
		run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]);
		const settings = [
			`-p ${port}`,
			"-c listen_addresses=127.0.0.1",
			"-c unix_socket_directories=''",
			"-c shared_preload_libraries=pg_stat_statements",
			"-c pg_stat_statements.track_planning=on",
		].join(" ");
		run("pg_ctl", ["start", "-w", "-t", "60", "-D", data, "-l", join(dir, "server.log"), "-o", settings]);
	} catch (error) {
		rmSync(dir, { recursive: true, force: true });
		throw error;
	}
	return {
		url: `postgres://postgres@127.0.0.1:${port}/postgres`,
		stop() {
			spawnSync(join(bin, "pg_ctl"), ["stop", "-m", "fast", "-w", "-D", data], { ...user, cwd: dir });
			rmSync(dir, { recursive: true, force: true });
		},
	};
}
