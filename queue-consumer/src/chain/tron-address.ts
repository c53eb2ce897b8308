/**
 * TRON addresses: base58check of 0x41 followed by the 20 bytes an EVM address has. TRON's
 * HTTP API gives log addresses and topics as those 20 bytes in hex; players and configuration
 * use the base58 form (`T…`). Base58check from `@scure/base`, SHA-256 from viem.
 *
 * @module
 */
import { createBase58check } from "@scure/base";
import { bytesToHex, hexToBytes, sha256 } from "viem";

const base58check = createBase58check((data) => sha256(data, "bytes"));
const TRON_PREFIX = 0x41;

/** The base58 form of 20 address bytes given in hex (with or without `0x`, or with TRON's `41`). */
export function tronAddressFromHex(hex: string): string {
	const digits = hex.replace(/^0x/i, "").toLowerCase();
	const body = digits.length === 42 && digits.startsWith("41") ? digits.slice(2) : digits;
	if (!/^[0-9a-f]{40}$/.test(body)) throw new Error(`not a 20-byte address: ${hex}`);
	const bytes = new Uint8Array(21);
	bytes[0] = TRON_PREFIX;
	bytes.set(hexToBytes(`0x${body}`), 1);
	return base58check.encode(bytes);
}

/** The 20 address bytes (lower-case hex, `0x`) of a base58 TRON address, or null if it is not one. */
export function tronAddressToHex(address: string): `0x${string}` | null {
	try {
		const bytes = base58check.decode(address);
		if (bytes.length !== 21 || bytes[0] !== TRON_PREFIX) return null;
		return bytesToHex(bytes.subarray(1));
	} catch {
		return null;
	}
}

/** Whether `address` is a base58check TRON address with a valid checksum. */
export function isTronAddress(address: string): boolean {
	return tronAddressToHex(address) !== null;
}
