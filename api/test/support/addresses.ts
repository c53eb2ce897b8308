/**
 * Deposit addresses for the edge tests: fresh valid EVM and TRON addresses (TRON with a real
 * base58check checksum, as a wallet would generate them), a pool imported through the admin
 * API, an address issued to a player through the player route, and an address written straight
 * into SQL as the admin registration route writes it.
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { createBase58check } from "@scure/base";
import { expect } from "vitest";
import type { Family } from "../../../schema/address-family";
import { call, json, sql } from "./accounts";

const base58check = createBase58check(sha256);

/** A fresh EVM address, lower-case (its stored form). */
export function randomEvmAddress(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(20));
	return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/** A fresh TRON address: version byte 0x41, 20 random bytes, base58check. */
export function randomTronAddress(): string {
	const payload = crypto.getRandomValues(new Uint8Array(21));
	payload[0] = 0x41;
	return base58check.encode(payload);
}

export function randomAddress(family: Family): string {
	return family === "evm" ? randomEvmAddress() : randomTronAddress();
}

const BASE58 = /[1-9A-HJ-NP-Za-km-z]/;

/** `address` with one letter's case flipped, still in base58's alphabet: another, invalid, address. */
export function flipCase(address: string): string {
	const flip = (ch: string) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase());
	const i = [...address].findIndex((ch, n) => n > 0 && flip(ch) !== ch && BASE58.test(flip(ch)));
	return address.slice(0, i) + flip(address[i]!) + address.slice(i + 1);
}

/** Imports `addresses` into the pool through the admin API; returns the answer. */
export async function importPool(adminToken: string, family: Family, addresses: unknown[]) {
	const res = await call("/api/v1/admin/deposit-addresses/pool", {
		body: { family, addresses },
		token: adminToken,
	});
	expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
	return json(res);
}

/** Asks the player route for the player's address on `chain`. */
export function issueAddress(token: string, chain: string): Promise<Response> {
	return call("/api/v1/wallet/deposit-address", { body: { chain }, token });
}

/** Registers `address` (stored form) to a player in SQL, as the admin registration route does. */
export async function seedAddress(userId: string, family: Family, address: string): Promise<void> {
	await sql().query(
		"INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at) VALUES ($1, $2, $3, 'admin', now())",
		[family, address, userId],
	);
}
