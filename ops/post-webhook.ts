/**
 * Sends a signed webhook to a running edge Worker and prints its answer, for the commands that
 * post one by hand (`ops send-webhook`, `ops sign-webhook --send`).
 *
 * @module
 */

/** Posts `body` with `headers` to `path` below `base`; prints the status and the answer; 0 for a 2xx, else 1. */
export async function postWebhook(
	base: string,
	path: string,
	headers: Record<string, string>,
	body: string,
): Promise<number> {
	const url = `${base.replace(/\/$/, "")}${path}`;
	let res: Response;
	try {
		res = await fetch(url, { method: "POST", headers, body });
	} catch (error) {
		throw new Error(`could not reach ${url}: ${(error as Error).message}. Is the stack running (npm start)?`);
	}
	console.log(`POST ${url} → ${res.status}`);
	console.log(await res.text());
	return res.ok ? 0 : 1;
}
