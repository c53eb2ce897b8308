/**
 * Deposit addresses as they enter the system (a pool import, an admin's registration, a
 * webhook's `to_address`): checked against their family's format and checksum, and brought to
 * the stored form that `deposit_addresses` and settlement compare (./address-family.ts). Here,
 * below the Workers, so every part that reads an address checks it the same way.
 *
 * - EVM (bep20, erc20): `0x` + 40 hex digits, stored lower-case. A mixed-case address carries
 *   an EIP-55 checksum (the case of each letter encodes a Keccak-256 bit of the address), which
 *   must hold: a typo in a checksummed address is caught here, not after money is sent to it.
 *   All lower-case or all upper-case carries no checksum and is taken as it is.
 * - TRON (trc20): base58check of the version byte 0x41 and 20 address bytes (`T` + 33
 *   characters), its 4-byte double-SHA-256 checksum verified, stored exactly as given. Base58
 *   is case-sensitive: an address whose case was changed fails its checksum.
 *
 * Base58check comes from @scure/base and the hashes from @noble/hashes (audited, dependency-free,
 * synchronous, so a zod schema can call them). The consumer's TRON verifier spells the 20-byte
 * hex addresses of TRON's HTTP API in this same base58 form ({@link tronAddressFromHex}).
 *
 * @module
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { hexToBytes } from "@noble/hashes/utils.js";
import { createBase58check } from "@scure/base";
import { CHAIN_FAMILY, type Family } from "./address-family";
import type { Chain } from "./queue-message";

/** A checked address in its stored form, or why it is not one. */
type ParsedAddress = { ok: true; address: string } | { ok: false; message: string };

const base58check = createBase58check(sha256);
const TRON_VERSION = 0x41;
const TRON_SHAPE = /^T[1-9A-HJ-NP-Za-km-z]{33}$/;
const EVM_SHAPE = /^0x[0-9a-fA-F]{40}$/;

/** What each family's addresses look like, for error messages. */
const ADDRESS_FORMATS: Readonly<Record<Family, string>> = {
	evm: "an EVM address: 0x followed by 40 hex digits (EIP-55 mixed case or all one case)",
	tron: "a TRON address: base58check, T followed by 33 characters, its case as given",
};

/** The EIP-55 spelling of a lower-case hex address (without `0x`). */
function eip55(lowerHex: string): string {
	const hash = keccak_256(new TextEncoder().encode(lowerHex));
	let out = "";
	for (let i = 0; i < lowerHex.length; i++) {
		const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
		out += nibble >= 8 ? lowerHex[i]!.toUpperCase() : lowerHex[i];
	}
	return out;
}

function parseEvm(text: string): ParsedAddress {
	if (!EVM_SHAPE.test(text)) return { ok: false, message: `is not ${ADDRESS_FORMATS.evm}` };
	const hex = text.slice(2);
	const lower = hex.toLowerCase();
	if (hex !== lower && hex !== hex.toUpperCase() && eip55(lower) !== hex) {
		return {
			ok: false,
			message:
				"fails its EIP-55 checksum (the case of its letters): a character is wrong; copy the address again from the wallet",
		};
	}
	return { ok: true, address: `0x${lower}` };
}

function parseTron(text: string): ParsedAddress {
	if (!TRON_SHAPE.test(text)) {
		return {
			ok: false,
			message: /^T[0-9A-Za-z]{33}$/.test(text)
				? "contains 0, O, I or l, which base58 never uses: a character is wrong or its case was changed (TRON addresses are case-sensitive)"
				: `is not ${ADDRESS_FORMATS.tron}`,
		};
	}
	let payload: Uint8Array;
	try {
		payload = base58check.decode(text);
	} catch {
		return {
			ok: false,
			message:
				"fails its base58check checksum: a character is wrong or its case was changed (TRON addresses are case-sensitive); copy the address again from the wallet",
		};
	}
	if (payload.length !== 21 || payload[0] !== TRON_VERSION) {
		return { ok: false, message: "is base58check but not a TRON account address (version byte 0x41)" };
	}
	return { ok: true, address: text };
}

/**
 * Checks `text` (already trimmed) as an address of `family` and returns its stored form.
 *
 * @example
 * ```ts
 * parseAddress("evm", "0x52908400098527886E0F7030069857D2E4169EE7"); // {ok: true, address: "0x5290…9ee7"}
 * parseAddress("tron", "tjrabprwbzy45sbavfcjinpjc18kjprtv8"); // {ok: false, message: "…checksum…"}
 * ```
 */
export function parseAddress(family: Family, text: string): ParsedAddress {
	return family === "evm" ? parseEvm(text) : parseTron(text);
}

/** {@link parseAddress} for the family of `chain`. */
export function parseChainAddress(chain: Chain, text: string): ParsedAddress {
	return parseAddress(CHAIN_FAMILY[chain], text);
}

/**
 * The base58 form of 20 address bytes given in hex (with or without `0x`, or with TRON's `41`),
 * as TRON's HTTP API gives log addresses and topics.
 *
 * @example tronAddressFromHex("0xa614f803b6fd780986a42c78ec9c7f77e6ded13c") // "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", USDT on TRON
 */
export function tronAddressFromHex(hex: string): string {
	const digits = hex.replace(/^0x/i, "").toLowerCase();
	const body = digits.length === 42 && digits.startsWith("41") ? digits.slice(2) : digits;
	if (!/^[0-9a-f]{40}$/.test(body)) throw new Error(`not a 20-byte address: ${hex}`);
	const bytes = new Uint8Array(21);
	bytes[0] = TRON_VERSION;
	bytes.set(hexToBytes(body), 1);
	return base58check.encode(bytes);
}
