/**
 * The gateway half of the protocol fake engine (`fake-engine.mjs`): client WebSockets tunnelled to one runner. Opens
 * sockets with `ToClientWebSocketOpen` (the headers the real gateway forwards, one gateway id, a random 4-byte request
 * id unique per socket), waits for each `ToServerWebSocketOpen`, closes sockets, and sends a message on one and waits
 * for its echo and acknowledgement. Also the small helpers the fake shares.
 *
 * @module
 */
import { randomBytes, randomInt } from "node:crypto";

const ID_CHARS = "0123456789abcdefghijklmnopqrstuvwxyz";

/** An id shaped like the engine's (30 characters of base 36, ending in the datacenter label `l00`). */
export function engineId() {
	let id = "";
	for (const b of randomBytes(27)) id += ID_CHARS[b % 36];
	return `${id}l00`;
}

/** Rejects after `ms` with a message naming `what`, unless `promise` settles first. */
export function within(promise, ms, what) {
	let timer;
	const timeout = new Promise((_, reject) => {
		timer = setTimeout(
			() => reject(new Error(`fake engine: timed out after ${ms} ms waiting for ${what}`)),
			ms,
		);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A gateway request id: a random u32 not in `taken` (anything with `has`), as the 4 bytes the protocol carries.
 * @returns {{ handle: number, requestId: ArrayBuffer }}
 */
export function newRequestId(taken) {
	let handle;
	do handle = randomInt(1, 2 ** 32);
	while (taken.has(handle));
	const requestId = new ArrayBuffer(4);
	new DataView(requestId).setUint32(0, handle);
	return { handle, requestId };
}

/** A promise with its resolve and reject. */
export function deferred() {
	let resolve;
	let reject;
	const promise = new Promise((res, rej) => {
		resolve = res;
		reject = rej;
	});
	return { promise, resolve, reject };
}

/** The client sockets of one runner connection. */
export class FakeSockets {
	/** request id (u32) → { actorId, requestId, opened: deferred, index, echoes: deferred[], acked } */
	#sockets = new Map();
	#used = new Set();
	#gatewayId = Uint8Array.from(randomBytes(4)).buffer;
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

	/**
	 * Opens `count` WebSockets on `actorId` at `path`, `batch` at a time, each batch awaited until the runner has
	 * answered every open. Fails if the runner refuses one or (with `hibernatable`) does not make it hibernatable.
	 * @returns {Promise<number[]>} socket handles
	 */
	async open(actorId, count, { path = "/hib", batch = 250, hibernatable = true, timeoutMs = 60_000 } = {}) {
		const handles = [];
		while (handles.length < count) {
			const wave = [];
			for (let i = 0; i < batch && handles.length < count; i++) {
				// Random and never reused, like the gateway's request ids.
				const { handle, requestId } = newRequestId(this.#used);
				this.#used.add(handle);
				const socket = { actorId, requestId, opened: deferred(), index: 0, echoes: [], acked: -1 };
				this.#sockets.set(handle, socket);
				handles.push(handle);
				wave.push(
					socket.opened.promise.then((canHibernate) => {
						if (hibernatable && !canHibernate) throw new Error(`socket ${handle} was not made hibernatable`);
					}),
				);
				const val = { actorId, path, headers: this.#headers() };
				this.#tunnel(socket, 0, { tag: "ToClientWebSocketOpen", val });
			}
			await within(Promise.all(wave), timeoutMs, `${wave.length} WebSocket opens to be answered`);
		}
		return handles;
	}

	/** The headers the engine's gateway forwards for a client WebSocket (as seen from engine 2.3.19). */
	#headers() {
		return new Map([
			["sec-websocket-key", randomBytes(16).toString("base64")],
			["x-rivet-ray-id", engineId()],
			["upgrade", "websocket"],
			["sec-websocket-protocol", "rivet"],
			["host", this.#host],
			["connection", "Upgrade"],
			["sec-websocket-version", "13"],
		]);
	}

	/** The clients close these sockets (code 1000). */
	close(handles) {
		for (const handle of handles) {
			const socket = this.#sockets.get(handle);
			if (!socket) continue;
			this.#sockets.delete(handle);
			const val = { code: 1000, reason: "" };
			this.#tunnel(socket, ++socket.index, { tag: "ToClientWebSocketClose", val });
		}
	}

	/**
	 * Sends one binary message on a socket; resolves once the runner has echoed it and (unless `waitForAck` is false)
	 * acknowledged its index.
	 */
	async echo(handle, { timeoutMs = 10_000, waitForAck = true } = {}) {
		const socket = this.#sockets.get(handle);
		if (!socket) throw new Error(`no open socket ${handle}`);
		const index = ++socket.index;
		const echoed = deferred();
		socket.echoes.push(echoed);
		const data = new TextEncoder().encode(`scale-${handle}-${index}`).buffer;
		this.#tunnel(socket, index, { tag: "ToClientWebSocketMessage", val: { data, binary: true } });
		await within(echoed.promise, timeoutMs, `the echo on socket ${handle}`);
		if (!waitForAck) return;
		const deadline = Date.now() + timeoutMs;
		while (socket.acked < index) {
			if (Date.now() > deadline)
				throw new Error(`fake engine: message ${index} on socket ${handle} was never acknowledged`);
			await new Promise((resolve) => setTimeout(resolve, 20));
		}
	}

	#tunnel(socket, messageIndex, messageKind) {
		const messageId = { gatewayId: this.#gatewayId, requestId: socket.requestId, messageIndex };
		this.#send({ tag: "ToClientTunnelMessage", val: { messageId, messageKind } });
	}

	/** A `ToServerTunnelMessage` from the runner. */
	handle({ messageId, messageKind }) {
		const handle = new DataView(messageId.requestId).getUint32(0);
		const socket = this.#sockets.get(handle);
		if (!socket) return;
		switch (messageKind.tag) {
			case "ToServerWebSocketOpen":
				socket.opened.resolve(messageKind.val.canHibernate);
				break;
			case "ToServerWebSocketMessage":
				socket.echoes.shift()?.resolve();
				break;
			case "ToServerWebSocketMessageAck":
				socket.acked = Math.max(socket.acked, messageKind.val.index);
				break;
			case "ToServerWebSocketClose": {
				this.#sockets.delete(handle);
				const { code, reason } = messageKind.val;
				this.#fail(socket, new Error(`runner closed socket ${handle}: ${code} ${reason}`));
				break;
			}
		}
	}

	/** The runner disconnected: everything waiting fails. */
	failAll(error) {
		for (const socket of this.#sockets.values()) this.#fail(socket, error);
	}

	#fail(socket, error) {
		socket.opened.reject(error);
		for (const echo of socket.echoes) echo.reject(error);
		socket.echoes = [];
	}
}
