/**
 * The headers the engine's gateway forwards to a runner for a `fetch` from Node 20 (seen from engine 2.3.19), shared
 * by the fake engine's HTTP requests (`fake-http.mjs`) and the runners' Fetch API cost probe (`runners/control.mjs`).
 * No imports: every runtime under test loads it.
 *
 * @module
 */

/**
 * The header pairs, lowercase names, in the gateway's order.
 * @param {string} host the `host` header the client sent
 * @param {string} rayId the gateway's `x-rivet-ray-id` for the request
 * @returns {Array<[string, string]>}
 */
export function gatewayHttpHeaders(host, rayId) {
	return [
		["host", host],
		["connection", "keep-alive"],
		["accept", "*/*"],
		["accept-language", "*"],
		["sec-fetch-mode", "cors"],
		["user-agent", "node"],
		["accept-encoding", "gzip, deflate"],
		["x-rivet-ray-id", rayId],
	];
}
