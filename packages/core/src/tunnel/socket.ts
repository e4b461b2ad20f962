/**
 * The WebSocket object an actor receives for a tunnelled connection. It behaves like the WHATWG `WebSocket`:
 * `readyState`, `binaryType`, `bufferedAmount`, `protocol`, `url`, `send`, `close`, `addEventListener` and the
 * `on…` properties. Listener errors are reported to the runner's `onError`, never thrown into the process.
 *
 * @module
 */
import { asUint8Array, isBinary, toArrayBuffer, utf8Encode } from "../bytes.ts";
import { InvalidArgumentError, RunnerError } from "../errors.ts";

/** What a socket needs from the tunnel. */
export interface SocketLink {
	/** Sends a message frame to the client. */
	send(data: ArrayBuffer, binary: boolean): void;
	/** Sends a close to the client. */
	close(code: number | undefined, reason: string | undefined): void;
	/** Bytes of this socket's frames waiting for the engine connection. */
	buffered(): number;
	/** Reports an error thrown by a listener. */
	listenerError(error: unknown): void;
}

/** Base of the events a {@link TunnelWebSocket} dispatches. */
export interface TunnelEvent {
	/** `open`, `message`, `close` or `error`. */
	readonly type: string;
	/** The socket. */
	readonly target: TunnelWebSocket;
}

/** A message from the client. */
export interface TunnelMessageEvent extends TunnelEvent {
	readonly type: "message";
	/** Text as a string; binary as an `ArrayBuffer` (or `Blob` when `binaryType` is `"blob"`). */
	readonly data: string | ArrayBuffer | Blob;
	/** Gateway id, lowercase hex. */
	readonly gatewayId: string;
	/** Request id, lowercase hex. */
	readonly requestId: string;
	/** The engine's u16 index of this message. */
	readonly messageIndex: number;
	/** Whether the socket survives actor sleep. */
	readonly hibernatable: boolean;
	/** Gateway id as bytes, as `@rivetkit/engine-runner` names it. */
	readonly rivetGatewayId: ArrayBuffer;
	/** Request id as bytes, as `@rivetkit/engine-runner` names it. */
	readonly rivetRequestId: ArrayBuffer;
	/** Same as `messageIndex`, as `@rivetkit/engine-runner` names it. */
	readonly rivetMessageIndex: number;
	/**
	 * Marks this message processed without writing anything else: its index is persisted, then acknowledged to the
	 * engine (automatic unless the runner's hibernation `commit` is "manual"; same as `commit([])`, not awaited).
	 */
	ack(): void;
	/**
	 * Applies `entries` to the actor's KV and records this message as processed, in one atomic put: after a crash the
	 * message is either fully applied or replayed, never half. Then acknowledges it.
	 */
	commit(entries?: Array<[Uint8Array, Uint8Array]>): Promise<void>;
}

/** The connection closed. */
export interface TunnelCloseEvent extends TunnelEvent {
	readonly type: "close";
	/** Close code. */
	readonly code: number;
	/** Close reason. */
	readonly reason: string;
	/** Whether the closing handshake completed. */
	readonly wasClean: boolean;
}

/** Events by type. */
export interface TunnelEventMap {
	open: TunnelEvent;
	message: TunnelMessageEvent;
	close: TunnelCloseEvent;
	error: TunnelEvent & { readonly error: unknown };
}

type Listener<K extends keyof TunnelEventMap> = (event: TunnelEventMap[K]) => void;

/** Options of `addEventListener`. */
export interface ListenerOptions {
	/** Remove after the first call. */
	once?: boolean;
	/** Remove when aborted. */
	signal?: AbortSignal;
}

/** How the tunnel drives a socket's state; reachable only from this package's modules, not from the socket. */
export interface SocketControl {
	/** Marks the socket open, dispatching `open` unless `dispatch` is false (a restored socket). */
	opened(socket: TunnelWebSocket, dispatch: boolean): void;
	/** Marks the socket closed and dispatches `close` once. */
	closed(socket: TunnelWebSocket, code: number, reason: string, wasClean: boolean): void;
	/** Dispatches an event to the listeners; returns a promise when some listener returned one (settles when all have). */
	dispatch<K extends keyof TunnelEventMap>(
		socket: TunnelWebSocket,
		event: TunnelEventMap[K],
	): Promise<void> | undefined;
	/** Incoming binary data as `binaryType` asks for. */
	binaryData(socket: TunnelWebSocket, buffer: ArrayBuffer): ArrayBuffer | Blob;
}

// Assigned by the class's static block, which alone can reach the private members.
let socketControl!: SocketControl;

/** The control surface of tunnel sockets (package-internal). */
export function tunnelSocketControl(): SocketControl {
	return socketControl;
}

/** Largest outgoing message (the engine's limit). */
export const MAX_MESSAGE_BYTES: number = 20 * 1024 * 1024;

/** A tunnelled WebSocket. */
export class TunnelWebSocket {
	/** Connecting. */
	static readonly CONNECTING = 0;
	/** Open. */
	static readonly OPEN = 1;
	/** Closing. */
	static readonly CLOSING = 2;
	/** Closed. */
	static readonly CLOSED = 3;
	/** Connecting. */
	readonly CONNECTING = 0;
	/** Open. */
	readonly OPEN = 1;
	/** Closing. */
	readonly CLOSING = 2;
	/** Closed. */
	readonly CLOSED = 3;
	/** `ws://actor` plus the request path. */
	readonly url: string;
	/** Subprotocol the client asked for first, or `""`. */
	readonly protocol: string;
	/** Always `""`: the gateway negotiates no extensions with the actor. */
	readonly extensions = "";
	/** Called on `open`. */
	onopen: ((event: TunnelEvent) => void) | null = null;
	/** Called on `message`. */
	onmessage: ((event: TunnelMessageEvent) => void) | null = null;
	/** Called on `close`. */
	onclose: ((event: TunnelCloseEvent) => void) | null = null;
	/** Called on `error`. */
	onerror: ((event: TunnelEvent & { error: unknown }) => void) | null = null;
	#readyState = 0;
	#binaryType: "arraybuffer" | "blob" = "arraybuffer";
	readonly #link: SocketLink;
	readonly #listeners = new Map<string, Array<{ fn: (event: never) => void; once: boolean }>>();
	#sendChain: Promise<void> | undefined;

	/** Created by the runner; actors receive it through their `websocket` handler. */
	constructor(link: SocketLink, url: string, protocol: string, readyState = 0) {
		this.#link = link;
		this.url = url;
		this.protocol = protocol;
		this.#readyState = readyState;
	}

	/** 0 connecting, 1 open, 2 closing, 3 closed. */
	get readyState(): number {
		return this.#readyState;
	}

	/** How binary messages arrive: `"arraybuffer"` (default) or `"blob"` (where the runtime has `Blob`). */
	get binaryType(): "arraybuffer" | "blob" {
		return this.#binaryType;
	}

	set binaryType(value: "arraybuffer" | "blob") {
		if (value !== "arraybuffer" && value !== "blob") {
			throw new InvalidArgumentError("binaryType", `must be "arraybuffer" or "blob", got ${String(value)}`);
		}
		if (value === "blob" && typeof Blob === "undefined") {
			throw new RunnerError("UNSUPPORTED", "binaryType: this runtime has no Blob");
		}
		this.#binaryType = value;
	}

	/** Bytes sent but not yet handed to the engine connection (they wait while it is down). */
	get bufferedAmount(): number {
		return this.#link.buffered();
	}

	/** Sends a string (as text) or binary data. Throws while connecting; ignored once closing, like the standard. */
	send(data: string | ArrayBuffer | ArrayBufferView | Blob): void {
		if (this.#readyState === 0)
			throw new RunnerError("WEBSOCKET_ERROR", "send: the socket is still connecting");
		if (this.#readyState !== 1) return;
		if (typeof data === "string") {
			this.#queue(() => this.#sendChecked(toArrayBuffer(utf8Encode(data)), false));
			return;
		}
		if (isBinary(data)) {
			const bytes = asUint8Array(data);
			this.#queue(() => this.#sendChecked(bytes.slice().buffer as ArrayBuffer, true));
			return;
		}
		if (typeof Blob !== "undefined" && data instanceof Blob) {
			const read = data.arrayBuffer();
			this.#sendChain = (this.#sendChain ?? Promise.resolve())
				.then(() => read)
				.then((buffer) => {
					if (this.#readyState === 1) this.#sendChecked(buffer, true);
				})
				.catch((error: unknown) => this.#link.listenerError(error));
			return;
		}
		throw new InvalidArgumentError("data", "must be a string, ArrayBuffer, typed array, DataView or Blob");
	}

	/** Starts closing with an optional code (1000 or 3000–4999) and reason (≤ 123 UTF-8 bytes). */
	close(code?: number, reason?: string): void {
		if (code !== undefined && code !== 1000 && !(Number.isInteger(code) && code >= 3000 && code <= 4999)) {
			throw new InvalidArgumentError(
				"code",
				`must be 1000 or an integer from 3000 to 4999, got ${String(code)}`,
			);
		}
		if (reason !== undefined && utf8Encode(reason).length > 123) {
			throw new InvalidArgumentError("reason", "must be at most 123 bytes of UTF-8");
		}
		if (this.#readyState >= 2) return;
		this.#readyState = 2;
		const finish = (): void => {
			this.#link.close(code, reason);
			this.#closed(code ?? 1005, reason ?? "", true);
		};
		if (this.#sendChain) void this.#sendChain.then(finish);
		else finish();
	}

	/** Adds a listener; the same function is added once per type. */
	addEventListener<K extends keyof TunnelEventMap>(
		type: K,
		listener: Listener<K>,
		options?: ListenerOptions | boolean,
	): void {
		if (typeof listener !== "function") return;
		const list = this.#listeners.get(type) ?? [];
		if (list.some((entry) => entry.fn === listener)) return;
		const once = typeof options === "object" && options?.once === true;
		list.push({ fn: listener as (event: never) => void, once });
		this.#listeners.set(type, list);
		const signal = typeof options === "object" ? options?.signal : undefined;
		signal?.addEventListener("abort", () => this.removeEventListener(type, listener), { once: true });
	}

	/** Removes a listener. */
	removeEventListener<K extends keyof TunnelEventMap>(type: K, listener: Listener<K>): void {
		const list = this.#listeners.get(type);
		if (!list) return;
		const index = list.findIndex((entry) => entry.fn === listener);
		if (index >= 0) list.splice(index, 1);
	}

	static {
		socketControl = {
			opened: (socket, dispatch) => socket.#opened(dispatch),
			closed: (socket, code, reason, wasClean) => socket.#closed(code, reason, wasClean),
			dispatch: (socket, event) => socket.#dispatch(event),
			binaryData: (socket, buffer) => (socket.#binaryType === "blob" ? new Blob([buffer]) : buffer),
		};
	}

	#opened(dispatch: boolean): void {
		if (this.#readyState !== 0) return;
		this.#readyState = 1;
		if (dispatch) this.#dispatch({ type: "open", target: this });
	}

	#closed(code: number, reason: string, wasClean: boolean): void {
		if (this.#readyState === 3) return;
		this.#readyState = 3;
		this.#dispatch({ type: "close", target: this, code, reason, wasClean });
	}

	/** Calls the listeners of an event; a throwing listener is reported and the others still run. */
	#dispatch<K extends keyof TunnelEventMap>(event: TunnelEventMap[K]): Promise<void> | undefined {
		const handler = (this as unknown as Record<string, unknown>)[`on${event.type}`];
		const list = [...(this.#listeners.get(event.type) ?? [])];
		const pending: Promise<void>[] = [];
		for (const entry of list) {
			if (entry.once) this.removeEventListener(event.type as K, entry.fn as Listener<K>);
			const result = this.#call(entry.fn as (event: TunnelEventMap[K]) => void, event);
			if (result) pending.push(result);
		}
		if (typeof handler === "function") {
			const result = this.#call(handler as (event: TunnelEventMap[K]) => void, event);
			if (result) pending.push(result);
		}
		if (pending.length === 0) return undefined;
		return pending.length === 1 ? pending[0] : Promise.all(pending).then(() => {});
	}

	/** Calls a listener; a returned promise is passed back (settling, never rejecting), errors are reported. */
	#call<E>(fn: (event: E) => void, event: E): Promise<void> | undefined {
		try {
			const result = fn.call(this, event) as unknown;
			if (result instanceof Promise)
				return result.then(
					() => {},
					(error: unknown) => this.#link.listenerError(error),
				);
		} catch (error) {
			this.#link.listenerError(error);
		}
		return undefined;
	}

	#queue(send: () => void): void {
		if (this.#sendChain)
			this.#sendChain = this.#sendChain.then(send).catch((error: unknown) => this.#link.listenerError(error));
		else send();
	}

	#sendChecked(buffer: ArrayBuffer, binary: boolean): void {
		if (buffer.byteLength > MAX_MESSAGE_BYTES) {
			throw new RunnerError(
				"WEBSOCKET_ERROR",
				`send: message is ${buffer.byteLength} bytes; the engine allows at most ${MAX_MESSAGE_BYTES}`,
			);
		}
		this.#link.send(buffer, binary);
	}
}
