/**
 * The HTTP half of the protocol fake engine's gateway (`fake-engine.mjs`): tunnelled HTTP requests to one runner, sent
 * as the real gateway sends them (`ToClientRequestStart` with the whole body, `stream: false`, a random 4-byte
 * request id, the headers Node's `fetch` sends through engine 2.3.19), each answered by the runner's
 * `ToServerResponseStart`. It isolates the runner's CPU per request from the engine's own load.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { deferred, engineId, newRequestId, within } from "./fake-sockets.mjs";
import { gatewayHttpHeaders } from "./gateway-headers.mjs";

/** The tunnelled HTTP requests of one runner connection. */
export class FakeRequests {
	/** request id (u32) → deferred status */
	#pending = new Map();
	#gatewayId = Uint8Array.from(randomBytes(4)).buffer;
	#gatewayU32 = new DataView(this.#gatewayId).getUint32(0);
	#send;
	#host;

	/**
	 * @param {(message: import("@rivetkit/engine-runner-protocol").ToClient) => void} send
	 * @param {string} host the `host` header clients would send
	 */
	constructor(send, host) {
		this.#send = send;
		this.#host = host;
	}

	/** Whether a tunnel message is for this gateway (its requests), rather than for the sockets' one. */
	owns(messageId) {
		return new DataView(messageId.gatewayId).getUint32(0) === this.#gatewayU32;
	}

	/**
	 * Sends `total` GET requests for `path` on `actorId`, `concurrency` in flight; resolves once every one has been
	 * answered. Fails on a status other than 200 or after `timeoutMs`.
	 */
	async load(actorId, path, total, concurrency, timeoutMs = 120_000) {
		let started = 0;
		const worker = async () => {
			while (started < total) {
				started++;
				const status = await this.request(actorId, path, timeoutMs);
				if (status !== 200) throw new Error(`fake engine: ${path} answered ${status}`);
			}
		};
		await Promise.all(Array.from({ length: concurrency }, worker));
	}

	/** Sends one GET request; resolves with the response status. */
	request(actorId, path, timeoutMs = 30_000) {
		const { handle, requestId } = newRequestId(this.#pending);
		const answered = deferred();
		this.#pending.set(handle, answered);
		const val = { actorId, method: "GET", path, headers: this.#headers(), body: null, stream: false };
		const messageId = { gatewayId: this.#gatewayId, requestId, messageIndex: 0 };
		const messageKind = { tag: "ToClientRequestStart", val };
		this.#send({ tag: "ToClientTunnelMessage", val: { messageId, messageKind } });
		return within(answered.promise, timeoutMs, `the response to ${path}`).finally(() =>
			this.#pending.delete(handle),
		);
	}

	/** The headers the engine's gateway forwards for a `fetch` from Node 20. */
	#headers() {
		return new Map(gatewayHttpHeaders(this.#host, engineId()));
	}

	/** A `ToServerTunnelMessage` from the runner for one of these requests. */
	handle({ messageId, messageKind }) {
		const answered = this.#pending.get(new DataView(messageId.requestId).getUint32(0));
		if (!answered) return;
		if (messageKind.tag === "ToServerResponseStart") answered.resolve(messageKind.val.status);
		else if (messageKind.tag === "ToServerResponseAbort")
			answered.reject(new Error("runner aborted the response"));
	}

	/** The runner disconnected: every request waiting fails. */
	failAll(error) {
		for (const answered of this.#pending.values()) answered.reject(error);
	}
}
