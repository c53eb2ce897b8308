/**
 * `npm run bench:settle:chain`: what on-chain verification costs settlement, in one process.
 *
 * The consumer's own `settleDepositBatch` (queue-consumer/src/settle.ts) over the Neon HTTP
 * protocol to a local endpoint in front of Postgres, batches of 100, one at a time, for
 * deposits that are real transfers on a local anvil chain (the local USDT-like token,
 * `transferMany`: 100 transfers per transaction), each deposit new, attributed by a deposit
 * address issued to its player, past its threshold:
 *
 * - without: the chain trusts senders (`sender` mode): settlement alone;
 * - with: the chain verified (`chain` mode): one read of the ledger and one batched JSON-RPC
 *   request to anvil per batch, then settlement.
 *
 * Runs alternate (without, with, three times each) on fresh deposits; the figure is the median
 * of each. Every deposit of every run must end credited, or the benchmark fails. Local figures
 * are for the ratio, not for production throughput (anvil answers from memory; a public BSC
 * endpoint takes tens of milliseconds per request).
 *
 * Uses a scratch database on BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * created and dropped here, and its own anvil on a free port.
 *
 * @module
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { createWalletClient, type Hex, http, parseEventLogs, parseUnits, publicActions } from "viem";
import { anvilChain, SENDER, startLocalChain } from "../../ops/local/local-chain";
import { startNeonHttpServer } from "../../ops/local/neon-http-server";
import { postgresBackend } from "../../ops/local/postgres-backend";
import { TRANSFER_MANY_ABI } from "../../ops/local/token/local-usdt-abi";
import { migratePostgres, redact } from "../../ops/migrate";
import {
	parseChainConfig,
	parseConsumerConfig,
	type QueueBatch,
	type SettleContext,
	type Sql,
	settleDepositBatch,
} from "../../queue-consumer/engine";
import type { DepositMessage } from "../../schema/queue-message";
import { depositTxId } from "../../schema/tx-id";

const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const BATCH = 100;
const PER_RUN = 1_000;
const REPEATS = 3;
const config = parseConsumerConfig({ CONFIRMATIONS: { bep20: 12, erc20: 12, trc20: 19 } });

let serial = 0;

/** `count` real transfers to fresh addresses, each address issued to a fresh player; their webhooks. */
async function realDeposits(
	count: number,
	chain: { rpcUrl: string; token: Hex },
	db: pg.Client,
): Promise<DepositMessage[]> {
	const wallet = createWalletClient({
		chain: anvilChain(chain.rpcUrl),
		account: SENDER,
		transport: http(chain.rpcUrl),
	}).extend(publicActions);
	const messages: DepositMessage[] = [];
	for (let start = 0; start < count; start += BATCH) {
		const recipients = Array.from(
			{ length: Math.min(BATCH, count - start) },
			() => `0x${(++serial).toString(16).padStart(40, "0")}` as Hex,
		);
		const amounts = recipients.map((_, k) => `${(k % 97) + 1}.25`);
		const hash = await wallet.writeContract({
			address: chain.token,
			abi: TRANSFER_MANY_ABI,
			functionName: "transferMany",
			args: [recipients, amounts.map((a) => parseUnits(a, 18))],
		});
		const receipt = await wallet.waitForTransactionReceipt({ hash, pollingInterval: 20 });
		if (receipt.status !== "success") throw new Error(`transferMany ${hash} failed`);
		const logs = parseEventLogs({ abi: TRANSFER_MANY_ABI, eventName: "Transfer", logs: receipt.logs });
		await db.query(
			`WITH a AS (SELECT * FROM unnest($1::text[]) WITH ORDINALITY AS a(address, n)),
			 u AS (INSERT INTO users (username) SELECT 'bc_' || address FROM a RETURNING id, username),
			 w AS (INSERT INTO wallets (user_id) SELECT id FROM u)
			 INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at)
			 SELECT 'evm', a.address, u.id, 'admin', now() FROM a JOIN u ON u.username = 'bc_' || a.address`,
			[recipients],
		);
		for (const [k, log] of logs.entries()) {
			messages.push({
				v: 1,
				tx_id: await depositTxId("bep20", hash, log.logIndex),
				chain: "bep20",
				tx_hash: hash,
				log_index: log.logIndex,
				amount: amounts[k]!,
				currency: "USDT",
				confirmations: 15,
				status: "confirmed",
				to_address: recipients[k]!,
				user_id: null,
				block_number: String(receipt.blockNumber),
				metadata: null,
				webhook_id: `bench_chain_${hash}_${log.logIndex}`,
				received_at: new Date().toISOString(),
			});
		}
	}
	return messages;
}

/** Settles `messages` in batches of 100, one at a time; deposits per second. */
async function settleAll(messages: DepositMessage[], context: SettleContext): Promise<number> {
	let acked = 0;
	const started = performance.now();
	for (let i = 0; i < messages.length; i += BATCH) {
		const batch: QueueBatch = {
			queue: "deposits",
			messages: messages.slice(i, i + BATCH).map((body, k) => ({
				id: `${body.webhook_id}-${k}`,
				timestamp: new Date(),
				body,
				attempts: 1,
				ack: () => {
					acked++;
				},
				retry: () => {},
			})),
		};
		const outcomes = await settleDepositBatch(batch, context);
		const notCredited = [...outcomes.values()].filter((o) => o !== "credited");
		if (notCredited.length) throw new Error(`expected every deposit credited, got ${notCredited.join(", ")}`);
	}
	if (acked !== messages.length) throw new Error(`${messages.length - acked} deposits were not acked`);
	return messages.length / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main() {
	const database = `cricalgo_bench_chain_${process.pid}`;
	const url = new URL(BASE_URL);
	url.pathname = `/${database}`;
	console.log(
		`settle benchmark, with and without on-chain verification, on ${redact(BASE_URL)} (scratch database ${database})`,
	);
	const admin = new pg.Client({ connectionString: BASE_URL });
	try {
		await admin.connect();
	} catch (error) {
		throw new Error(
			`cannot reach Postgres at ${redact(BASE_URL)}: ${(error as Error).message}. Start it (pg_ctlcluster 15 main start) or set BENCH_DATABASE_URL.`,
		);
	}
	await admin.query(`CREATE DATABASE "${database}"`);
	const backend = postgresBackend(BASE_URL, { poolSize: 4 });
	const server = await startNeonHttpServer(backend);
	const db = new pg.Client({ connectionString: url.toString() });
	process.stdout.write("starting anvil and deploying the local token … ");
	const chain = await startLocalChain();
	console.log(chain.rpcUrl);
	try {
		await migratePostgres(url.toString());
		await db.connect();
		neonConfig.fetchEndpoint = server.endpoint;
		const base = {
			sql: neon(url.toString()) as Sql,
			config,
			metrics: { writeDataPoint() {} },
			versionId: "bench",
		};
		const modes = {
			without: { ...base, chain: undefined },
			with: {
				...base,
				chain: parseChainConfig({
					CHAIN_VERIFICATION: { bep20: "chain", erc20: "sender", trc20: "sender" },
					CHAIN_RPC_URLS: { bep20: [chain.rpcUrl] },
					CHAIN_TOKENS: { bep20: { address: chain.tokens.bep20.address, decimals: 18 } },
					REORG_WINDOW: { bep20: 64 },
				}),
			},
		} satisfies Record<string, SettleContext>;
		const figures: Record<keyof typeof modes, number[]> = { without: [], with: [] };
		for (let run = 1; run <= REPEATS; run++) {
			for (const mode of ["without", "with"] as const) {
				process.stdout.write(`run ${run}/${REPEATS} ${mode.padEnd(7)}: ${PER_RUN} real transfers … `);
				const messages = await realDeposits(
					PER_RUN,
					{ rpcUrl: chain.rpcUrl, token: chain.tokens.bep20.address },
					db,
				);
				// Past the threshold on chain too: 12 more blocks.
				await fetch(chain.rpcUrl, {
					method: "POST",
					headers: { "content-type": "application/json" },
					body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "anvil_mine", params: ["0xc"] }),
				});
				await db.query("ANALYZE");
				const rate = await settleAll(messages, modes[mode]);
				figures[mode].push(rate);
				console.log(`settled, ${fmt(rate)} deposits/s`);
			}
		}
		const without = median(figures.without);
		const withChain = median(figures.with);
		console.log(`\nbatch ${BATCH}, one batch at a time, median of ${REPEATS}:`);
		console.log(`  without verification (sender mode): ${fmt(without)} deposits/s`);
		console.log(`  with verification (chain mode):     ${fmt(withChain)} deposits/s`);
		console.log(`ratio: with / without = ${(withChain / without).toFixed(2)}`);
	} finally {
		await db.end().catch(() => {});
		await chain.stop();
		await server.close();
		await backend.close();
		await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
		await admin.end();
	}
}

main().catch((error: unknown) => {
	console.error(`bench:settle:chain failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});
