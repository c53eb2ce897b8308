/**
 * RFC 9562 UUIDv5 (SHA-1, name-based), for runtimes without the `uuid` package (k6). The
 * SHA-1 function is passed in: k6 gives `k6/crypto`, Node gives `node:crypto`. A Node test
 * checks it against `uuid` and the edge Worker's own `depositTxId` (schema/tx-id.ts).
 *
 * @module
 */

/** SHA-1 of the given bytes, as raw bytes. */
type Sha1 = (bytes: ArrayBuffer) => ArrayBuffer;

/** Namespace of deposit ids: the same constant as `DEPOSIT_NAMESPACE` in schema/tx-id.ts (a test checks it). */
export const DEPOSIT_NAMESPACE = "4f0b7a8e-2c1d-5e6f-9a0b-c1d2e3f4a5b6";

function uuidBytes(uuid: string): number[] {
	const hex = uuid.replace(/-/g, "");
	if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a UUID: ${uuid}`);
	const bytes: number[] = [];
	for (let i = 0; i < 32; i += 2) bytes.push(Number.parseInt(hex.slice(i, i + 2), 16));
	return bytes;
}

/** UTF-8 bytes of `text` (deposit names are ASCII, but encode properly anyway). */
function utf8(text: string): number[] {
	const out: number[] = [];
	for (const ch of text) {
		const cp = ch.codePointAt(0) ?? 0;
		if (cp < 0x80) out.push(cp);
		else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
		else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
		else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
	}
	return out;
}

/** UUIDv5 of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string, sha1: Sha1): string {
	const input = new Uint8Array([...uuidBytes(namespace), ...utf8(name)]);
	const hash = new Uint8Array(sha1(input.buffer));
	const bytes = Array.from(hash.slice(0, 16));
	bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
	bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
	const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
	return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The `tx_id` the edge Worker answers for a deposit: UUIDv5 of
 * `${chain}:${lower(trim(tx_hash))}:${log_index}`.
 */
export function depositTxId(chain: string, txHash: string, logIndex: number, sha1: Sha1): string {
	return uuidV5(`${chain}:${txHash.trim().toLowerCase()}:${logIndex}`, DEPOSIT_NAMESPACE, sha1);
}
