/**
 * The per-request variables every Worker that answers HTTP sets (its Hono `Variables`): what the
 * error envelope and the request's metrics data point read (./errors.ts, ./metrics.ts). The
 * webhook fields stay at their defaults in a Worker that serves no webhooks.
 *
 * @module
 */

export type RequestVariables = {
	/** The request's id, as error answers report it (./request-id.ts; unset until needed). */
	requestId?: string;
	/** Error code of the response, for the metrics data point ("" on success). */
	errorCode: string;
	/** The route pattern a handler served when one path pattern serves several ("" otherwise). */
	route: string;
	/** Chain of a webhook request, for the metrics data point. */
	chain: string;
	/** Set when a valid webhook could not be enqueued. */
	enqueueFailed: boolean;
	/** Webhook source of the request, for the metrics data point ("" until known). */
	source: string;
	/** Why a webhook was refused or not enqueued, for the metrics data point ("" when accepted). */
	reason: string;
	/**
	 * Set when another Worker answered the request (the edge forwarding to the API Worker): that
	 * Worker writes its data point, so this one writes none.
	 */
	forwarded: boolean;
	/** What a webhook request carried: deposits enqueued, transfers held, transfers ignored by reason. */
	transfers: { deposits: number; held: number; ignored: { reason: string; chain: string }[] };
};

/** The bindings the metrics data point is written with (the edge and API Workers have them). */
export type MetricsBindings = {
	METRICS?: AnalyticsEngineDataset;
	CF_VERSION_METADATA?: { id?: string };
};

/** The Hono environment the shared middleware needs of an app. */
export type MeteredEnv = { Bindings: MetricsBindings; Variables: RequestVariables };
