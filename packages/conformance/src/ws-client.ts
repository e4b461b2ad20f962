/**
 * A gateway WebSocket client over the runtime's own WebSocket class: it queues incoming messages (text as strings,
 * binary as bytes) and exposes the close as a promise.
 *
 * @module
 */
import type { ClientCloseEvent, WebSocketClientConstructor, WebSocketClientLike } from "./env.ts";

/** An incoming message: text, or binary bytes. */
export type ClientMessage = { kind: "text"; text: string } | { kind: "binary"; bytes: Uint8Array };

/** How the socket closed. */
export interface ClientClose {
	readonly code: number;
	readonly reason: string;
}

async function toMessage(data: unknown): Promise<ClientMessage> {
	if (typeof data === "string") return { kind: "text", text: data };
	if (data instanceof ArrayBuffer) return { kind: "binary", bytes: new Uint8Array(data) };
	if (ArrayBuffer.isView(data)) {
		return { kind: "binary", bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() };
	}
	if (typeof Blob !== "undefined" && data instanceof Blob) {
		return { kind: "binary", bytes: new Uint8Array(await data.arrayBuffer()) };
	}
	throw new Error(`unexpected WebSocket message data: ${Object.prototype.toString.call(data)}`);
}

/** A connected client. */
export class WsClient {
	readonly socket: WebSocketClientLike;
	/** Every message received so far, in order. */
	readonly received: ClientMessage[] = [];
	/** Settles when the socket has closed. */
	readonly closed: Promise<ClientClose>;
	#chain: Promise<void> = Promise.resolve();
	#closeInfo: ClientClose | undefined;
	#waiters: Array<() => void> = [];

	private constructor(socket: WebSocketClientLike) {
		this.socket = socket;
		this.closed = new Promise<ClientClose>((resolve) => {
			socket.onclose = (event: ClientCloseEvent) => {
				// After the queued messages, so a close never overtakes data that arrived before it.
				this.#chain = this.#chain.then(() => {
					this.#closeInfo = { code: event.code, reason: event.reason };
					resolve(this.#closeInfo);
					this.#wake();
				});
			};
		});
		socket.onmessage = (event) => {
			this.#chain = this.#chain.then(async () => {
				this.received.push(await toMessage(event.data));
				this.#wake();
			});
		};
	}

	/** Opens `url` with the `rivet` subprotocol (the gateway requires it) and waits for the open. */
	static async connect(Ctor: WebSocketClientConstructor, url: string, timeoutMs = 15_000): Promise<WsClient> {
		const socket = new Ctor(url, ["rivet"]);
		socket.binaryType = "arraybuffer";
		const client = new WsClient(socket);
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				reject(new Error(`WebSocket ${url} did not open within ${timeoutMs} ms`));
				try {
					socket.close();
				} catch {
					// Closing a socket that never opened may throw on some runtimes; it is being abandoned anyway.
				}
			}, timeoutMs);
			socket.onopen = () => {
				clearTimeout(timer);
				resolve();
			};
			socket.onerror = () => {
				clearTimeout(timer);
				reject(new Error(`WebSocket ${url} failed to open`));
			};
			void client.closed.then((close) => {
				clearTimeout(timer);
				reject(new Error(`WebSocket ${url} closed before opening: ${close.code} ${close.reason}`));
			});
		});
		socket.onerror = null;
		return client;
	}

	/** Whether the socket is open (readyState 1). */
	get open(): boolean {
		return this.socket.readyState === 1 && this.#closeInfo === undefined;
	}

	/** How it closed, once it has. */
	get closeInfo(): ClientClose | undefined {
		return this.#closeInfo;
	}

	/** Sends text or bytes. */
	send(data: string | Uint8Array): void {
		this.socket.send(data);
	}

	/** Waits until `count` messages have arrived in total; fails on timeout or close. */
	async waitForCount(count: number, timeoutMs = 15_000): Promise<ClientMessage[]> {
		const deadline = Date.now() + timeoutMs;
		while (this.received.length < count) {
			if (this.#closeInfo) {
				throw new Error(
					`socket closed (${this.#closeInfo.code} ${this.#closeInfo.reason}) after ${this.received.length} of ${count} messages`,
				);
			}
			const left = deadline - Date.now();
			if (left <= 0) throw new Error(`timed out: ${this.received.length} of ${count} messages arrived`);
			await new Promise<void>((resolve) => {
				const timer = setTimeout(resolve, left);
				this.#waiters.push(() => {
					clearTimeout(timer);
					resolve();
				});
			});
		}
		return this.received.slice(0, count);
	}

	/** Waits for the close, failing after `timeoutMs`. */
	async waitClosed(timeoutMs = 15_000): Promise<ClientClose> {
		let timer: ReturnType<typeof setTimeout> | undefined;
		try {
			return await Promise.race([
				this.closed,
				new Promise<never>((_, reject) => {
					timer = setTimeout(() => reject(new Error(`socket not closed within ${timeoutMs} ms`)), timeoutMs);
				}),
			]);
		} finally {
			clearTimeout(timer);
		}
	}

	/** Closes (if still open) and waits briefly for the close; for cleanup. */
	async dispose(): Promise<void> {
		if (this.#closeInfo) return;
		try {
			this.socket.close(1000, "done");
		} catch {
			// Already closing.
		}
		await this.waitClosed(5_000).catch(() => undefined);
	}

	#wake(): void {
		const waiters = this.#waiters;
		this.#waiters = [];
		for (const wake of waiters) wake();
	}
}
