/**
 * Builds the engine's runner endpoint URL.
 *
 * @module
 */

/** Protocol version this runner speaks. */
export const PROTOCOL_VERSION = 7;

/**
 * The runner WebSocket URL: the endpoint with `http(s)` turned into `ws(s)`, `/runners/connect` appended to its path,
 * and `protocol_version`, `namespace` and `runner_key` added to its query. A path prefix or query parameters already in
 * the endpoint (for a proxy in front of the engine) are kept.
 */
export function connectUrl(endpoint: URL, namespace: string, runnerKey: string): string {
	const url = new URL(endpoint.href);
	if (url.protocol === "http:") url.protocol = "ws:";
	else if (url.protocol === "https:") url.protocol = "wss:";
	url.pathname = `${url.pathname.replace(/\/+$/, "")}/runners/connect`;
	url.hash = "";
	url.searchParams.set("protocol_version", String(PROTOCOL_VERSION));
	url.searchParams.set("namespace", namespace);
	url.searchParams.set("runner_key", runnerKey);
	return url.href;
}

/** The subprotocols offered on connect: `rivet`, plus `rivet_token.<token>` when there is a token. */
export function connectProtocols(token: string | undefined): string[] {
	return token ? ["rivet", `rivet_token.${token}`] : ["rivet"];
}

/** A close reason from the engine, `group.code#rayId`, split into its parts. */
export interface CloseReason {
	/** Error group, e.g. `ws`. */
	readonly group: string;
	/** Error code within the group, e.g. `eviction`. */
	readonly code: string;
	/** Ray id for the engine's logs, when present. */
	readonly rayId: string | undefined;
}

/** Parses `group.code#rayId`; returns undefined for anything else. */
export function parseCloseReason(reason: string): CloseReason | undefined {
	const match = /^([a-z0-9_-]+)\.([a-z0-9_.-]+?)(?:#(.*))?$/i.exec(reason);
	if (!match) return undefined;
	return { group: match[1]!, code: match[2]!, rayId: match[3] };
}
