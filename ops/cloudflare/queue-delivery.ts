/**
 * Pausing and resuming a Cloudflare Queue's delivery to its consumer, with the REST calls
 * `wrangler queues pause-delivery|resume-delivery` (4.155) makes: the queue's id from
 * `GET /accounts/:id/queues?name=`, then `PATCH /accounts/:id/queues/:queue_id`
 * `{queue_name, settings: {delivery_paused}}`. Messages keep arriving and wait on the queue
 * (within its retention period); a batch already delivered finishes. The state is read back from
 * `GET /accounts/:id/queues/:queue_id` (`settings.delivery_paused`).
 *
 * @module
 */
import type { Credentials } from "./credentials";

/** A Queues API call that failed; the message says which and what Cloudflare answered. */
export class QueueDeliveryError extends Error {
	override name = "QueueDeliveryError";
}

interface QueueInfo {
	queue_id: string;
	queue_name: string;
	settings?: { delivery_paused?: boolean };
}

async function call<T>(credentials: Credentials, method: string, path: string, body?: unknown): Promise<T> {
	const url = `${credentials.baseUrl}/accounts/${credentials.accountId}${path}`;
	let res: Response;
	try {
		res = await fetch(url, {
			method,
			headers: {
				authorization: `Bearer ${credentials.token}`,
				...(body === undefined ? {} : { "content-type": "application/json" }),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(30_000),
		});
	} catch (error) {
		throw new QueueDeliveryError(
			`${method} ${path}: Cloudflare's API could not be reached (${(error as Error).message})`,
		);
	}
	const envelope = (await res.json().catch(() => null)) as {
		success?: boolean;
		errors?: { message?: string }[];
		result?: T;
	} | null;
	if (!res.ok || !envelope?.success) {
		const why = envelope?.errors?.map((e) => e.message).join("; ") || `HTTP ${res.status}`;
		const hint =
			res.status === 401 || res.status === 403
				? ": the token needs Queues: Edit on CLOUDFLARE_ACCOUNT_ID"
				: res.status >= 500
					? ": Cloudflare's API is unavailable; run the command again"
					: "";
		throw new QueueDeliveryError(`${method} ${path} answered ${res.status} (${why})${hint}`);
	}
	return envelope.result as T;
}

async function queueId(credentials: Credentials, name: string): Promise<string> {
	const found = await call<QueueInfo[]>(
		credentials,
		"GET",
		`/queues?${new URLSearchParams({ page: "1", name })}`,
	);
	const queue = found.find((q) => q.queue_name === name);
	if (!queue) throw new QueueDeliveryError(`the account has no queue called "${name}"`);
	return queue.queue_id;
}

/** Pauses (true) or resumes (false) the delivery of `name`; returns the state Cloudflare reports. */
export async function setDeliveryPaused(
	credentials: Credentials,
	name: string,
	paused: boolean,
): Promise<boolean> {
	const id = await queueId(credentials, name);
	const queue = await call<QueueInfo>(credentials, "PATCH", `/queues/${id}`, {
		queue_name: name,
		settings: { delivery_paused: paused },
	});
	return queue.settings?.delivery_paused === true;
}

/** Whether the delivery of `name` is paused. */
export async function deliveryPaused(credentials: Credentials, name: string): Promise<boolean> {
	const id = await queueId(credentials, name);
	const queue = await call<QueueInfo>(credentials, "GET", `/queues/${id}`);
	return queue.settings?.delivery_paused === true;
}
