/**
 * The baseline of the intake benchmark: the least a webhook Worker can do. It verifies a
 * Standard Webhooks signature (HMAC-SHA256 through WebCrypto, key imported once), sends the body
 * to the queue, and answers 202. No size limit, no schema, no tx_id, no metrics: the full
 * intake Worker is measured against this.
 *
 * Plain JavaScript so Miniflare runs it as is, without a build step.
 *
 * @module
 */

const encoder = new TextEncoder();
/** @type {Promise<CryptoKey> | undefined} */
let key;

/** @param {string} secret */
function importKey(secret) {
	const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
	return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

export default {
	/**
	 * @param {Request} request
	 * @param {{ WEBHOOK_SECRET: string, DEPOSITS: Queue }} env
	 */
	async fetch(request, env) {
		const id = request.headers.get("webhook-id") ?? "";
		const timestamp = request.headers.get("webhook-timestamp") ?? "";
		const signature = (request.headers.get("webhook-signature") ?? "").split(" ")[0]?.slice(3) ?? "";
		const body = new Uint8Array(await request.arrayBuffer());
		const head = encoder.encode(`${id}.${timestamp}.`);
		const signed = new Uint8Array(head.length + body.length);
		signed.set(head, 0);
		signed.set(body, head.length);
		key ??= importKey(env.WEBHOOK_SECRET);
		let valid = false;
		try {
			const mac = Uint8Array.from(atob(signature), (c) => c.charCodeAt(0));
			valid = await crypto.subtle.verify("HMAC", await key, mac, signed);
		} catch {
			valid = false;
		}
		if (!valid) return Response.json({ ok: false }, { status: 401 });
		await env.DEPOSITS.send(
			{ webhook_id: id, body: new TextDecoder().decode(body) },
			{ contentType: "json" },
		);
		return Response.json({ ok: true }, { status: 202 });
	},
};
