/**
 * The one WebSocket to the engine: open, handshake, liveness, bad-frame handling and reconnect with backoff.
 *
 *   idle ──start()──► connecting ──open──► handshaking ──ToClientInit──► ready
 *     ▲                   │                    │                           │
 *     └── backoff timer ◄─┴──── close/error/timeout/bad frame ◄────────────┘
 *
 * Every socket gets an epoch number; events from a superseded socket are ignored.
 *
 * @module
 */
import {
	decodeToClient,
	encodeToServer,
	type ToClient,
	type ToClientInit,
	type ToServer,
} from "@rivetkit/engine-runner-protocol";
import { Backoff } from "./backoff.ts";
import { readSocketData } from "./bytes.ts";
import type { ResolvedConfig, TokenSource } from "./config.ts";
import { describeError, ProtocolError, RunnerError } from "./errors.ts";
import { levelEnabled } from "./log.ts";
import type { Cancel, Logger, SocketCloseEvent, SocketMessageEvent, WebSocketLike } from "./platform.ts";
import { connectProtocols, connectUrl, parseCloseReason } from "./url.ts";
import { isSubprotocolToken, TOKEN_CHARS_MESSAGE } from "./validate.ts";

/** What the connection tells its owner. */
export interface ConnectionHooks {
	/** Builds the `ToServerInit` sent on every new socket. */
	init(): ToServer;
	/** The engine accepted the runner. */
	onReady(init: ToClientInit, reconnected: boolean): void;
	/** A frame after the handshake (pings are answered here and not passed on). */
	onMessage(message: ToClient): void;
	/** The socket closed; `evicted` when the engine said `ws.eviction`. */
	onClosed(code: number, reason: string, evicted: boolean): void;
	/** A background failure. */
	onError(error: RunnerError): void;
}

const OPEN = 1;

/** Owns the engine socket and its reconnect loop. */
export class Connection {
	readonly #config: ResolvedConfig;
	readonly #hooks: ConnectionHooks;
	readonly #log: Logger;
	readonly #backoff: Backoff;
	readonly #url: string;
	#socket: WebSocketLike | undefined;
	#epoch = 0;
	#ready = false;
	#everReady = false;
	#stopped = true;
	#reconnectTimer: Cancel | undefined;
	#handshakeTimer: Cancel | undefined;
	#livenessTimer: Cancel | undefined;
	#lastFrameAt = 0;
	#closeWaiters: Array<() => void> = [];
	#inbound: Promise<void> | undefined;

	/** Creates an idle connection. */
	constructor(config: ResolvedConfig, hooks: ConnectionHooks, log: Logger) {
		this.#config = config;
		this.#hooks = hooks;
		this.#log = log;
		this.#backoff = new Backoff(config.reconnect, config.platform.random);
		this.#url = connectUrl(config.endpoint, config.namespace, config.runnerKey);
	}

	/** The URL the runner connects to (it holds no token). */
	get url(): string {
		return this.#url;
	}

	/** True between the engine's `ToClientInit` and the socket closing. */
	get ready(): boolean {
		return this.#ready;
	}

	/** Whether the socket holds more unsent bytes than `limits.maxSocketBufferBytes`. */
	get backpressured(): boolean {
		return (this.#socket?.bufferedAmount ?? 0) > this.#config.limits.maxSocketBufferBytes;
	}

	/** Failed connection attempts since the last successful handshake. */
	get attempt(): number {
		return this.#backoff.attempt;
	}

	/** Starts connecting; later drops reconnect until {@link close}. */
	start(): void {
		this.#stopped = false;
		void this.#open();
	}

	/**
	 * Encodes and writes a message if the handshake is done. Returns false (and writes nothing) otherwise, so the
	 * caller can keep it for after the reconnect.
	 */
	send(message: ToServer): boolean {
		const socket = this.#socket;
		if (!this.#ready || !socket || socket.readyState !== OPEN) return false;
		return this.#write(socket, message);
	}

	/** Closes the socket deliberately without reconnecting; the next {@link start} reconnects. */
	drop(code: number, reason: string): void {
		const socket = this.#socket;
		if (socket) this.#lost(this.#epoch, socket, code, reason, true);
	}

	/** Stops reconnecting; an open socket stays open until {@link close}. */
	halt(): void {
		this.#stopped = true;
		this.#reconnectTimer?.();
		this.#reconnectTimer = undefined;
	}

	/** Closes for good: no more reconnects. Resolves when the socket has closed, or after `timeoutMs`. */
	close(code = 1000, reason = "runner.shutdown", timeoutMs = 2000): Promise<void> {
		this.halt();
		const socket = this.#socket;
		if (!socket) return Promise.resolve();
		return new Promise<void>((resolve) => {
			const cancel = this.#config.platform.clock.setTimeout(() => {
				this.#lost(this.#epoch, socket, 1006, "close timed out", false);
			}, timeoutMs);
			this.#closeWaiters.push(() => {
				cancel();
				resolve();
			});
			try {
				socket.close(code, reason);
			} catch {
				this.#lost(this.#epoch, socket, 1006, "close failed", false);
			}
		});
	}

	#write(socket: WebSocketLike, message: ToServer): boolean {
		try {
			socket.send(encodeToServer(message));
			if (levelEnabled(this.#log, "trace")) this.#log.trace({ tag: message.tag }, "sent");
			return true;
		} catch (error) {
			this.#hooks.onError(
				new RunnerError("CONNECTION_LOST", `send failed: ${describeError(error)}`, { cause: error }),
			);
			return false;
		}
	}

	async #resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
		if (source === undefined) return undefined;
		const token = typeof source === "function" ? await source() : source;
		if (typeof token !== "string" || token.length === 0) {
			throw new RunnerError("INVALID_CONFIG", "token: the token function must return a non-empty string");
		}
		if (!isSubprotocolToken(token))
			throw new RunnerError("INVALID_CONFIG", `token: the token function's result ${TOKEN_CHARS_MESSAGE}`);
		return token;
	}

	async #open(): Promise<void> {
		if (this.#stopped) return;
		const epoch = ++this.#epoch;
		// One deadline covers the token, the upgrade and the engine's ToClientInit.
		this.#handshakeTimer = this.#config.platform.clock.setTimeout(() => {
			this.#log.warn(
				{ timeoutMs: this.#config.handshakeTimeoutMs },
				"engine did not complete the handshake in time",
			);
			if (this.#socket) this.#lost(epoch, this.#socket, 4000, "runner.handshake_timeout", true);
			else if (epoch === this.#epoch) {
				this.#epoch++;
				this.#scheduleReconnect();
			}
		}, this.#config.handshakeTimeoutMs);
		let socket: WebSocketLike;
		try {
			const token = await this.#resolveToken(this.#config.options.token);
			if (this.#stopped || epoch !== this.#epoch) return;
			socket = this.#config.platform.webSocket(this.#url, connectProtocols(token));
			socket.binaryType = "arraybuffer";
		} catch (error) {
			if (epoch !== this.#epoch) return;
			this.#handshakeTimer?.();
			this.#handshakeTimer = undefined;
			this.#hooks.onError(
				error instanceof RunnerError
					? error
					: new RunnerError("CONNECTION_LOST", `could not open the engine socket: ${describeError(error)}`, {
							cause: error,
							retryable: true,
						}),
			);
			this.#scheduleReconnect();
			return;
		}
		this.#socket = socket;
		this.#log.debug({ attempt: this.#backoff.attempt }, "connecting to engine");
		const onOpen = (): void => {
			if (epoch !== this.#epoch) return;
			this.#write(socket, this.#hooks.init());
		};
		const onMessage = (event: SocketMessageEvent): void => {
			if (epoch !== this.#epoch) return;
			const data = readSocketData(event.data);
			if (data instanceof Promise) {
				const previous = this.#inbound ?? Promise.resolve();
				this.#inbound = previous.then(() =>
					data.then(
						(bytes) => this.#frame(epoch, socket, bytes),
						(error) => this.#badFrame(epoch, socket, `unreadable frame: ${describeError(error)}`),
					),
				);
			} else if (this.#inbound) {
				this.#inbound = this.#inbound.then(() => this.#frame(epoch, socket, data));
			} else {
				this.#frame(epoch, socket, data);
			}
		};
		const onClose = (event: SocketCloseEvent): void => {
			this.#lost(epoch, socket, event.code ?? 1005, event.reason ?? "", false);
		};
		const onError = (event: unknown): void => {
			if (epoch !== this.#epoch) return;
			const message = (event as { message?: unknown } | null)?.message;
			this.#log.warn(
				{ error: typeof message === "string" ? message : "socket error" },
				"engine socket error",
			);
			this.#lost(epoch, socket, 1006, typeof message === "string" ? message : "socket error", true);
		};
		socket.addEventListener("open", onOpen);
		socket.addEventListener("message", onMessage);
		socket.addEventListener("close", onClose);
		socket.addEventListener("error", onError);
	}

	#frame(epoch: number, socket: WebSocketLike, data: Uint8Array | string | null): void {
		if (epoch !== this.#epoch) return;
		if (typeof data === "string" || data === null) {
			this.#badFrame(
				epoch,
				socket,
				data === null ? "frame of an unknown data type" : "text frame from engine",
			);
			return;
		}
		let message: ToClient;
		try {
			message = decodeToClient(data);
		} catch (error) {
			this.#badFrame(epoch, socket, `undecodable frame (${data.byteLength} bytes): ${describeError(error)}`);
			return;
		}
		this.#armLiveness(epoch, socket);
		if (levelEnabled(this.#log, "trace")) this.#log.trace({ tag: message.tag }, "received");
		if (message.tag === "ToClientPing") {
			this.#write(socket, { tag: "ToServerPong", val: { ts: message.val.ts } });
			return;
		}
		if (message.tag === "ToClientInit") {
			if (this.#ready) return;
			this.#handshakeTimer?.();
			this.#handshakeTimer = undefined;
			this.#ready = true;
			this.#backoff.reset();
			const reconnected = this.#everReady;
			this.#everReady = true;
			this.#hooks.onReady(message.val, reconnected);
			return;
		}
		if (this.#ready) this.#hooks.onMessage(message);
		else this.#badFrame(epoch, socket, `${message.tag} before ToClientInit`);
	}

	#badFrame(epoch: number, socket: WebSocketLike, detail: string): void {
		if (epoch !== this.#epoch) return;
		this.#hooks.onError(new ProtocolError(`bad frame from engine, reconnecting: ${detail}`));
		this.#lost(epoch, socket, 1011, "runner.invalid_frame", true);
	}

	/**
	 * Records a frame from the engine. One timer watches for silence: it is armed once and, when it fires, re-arms for
	 * whatever is left of the window since the last frame, so a busy connection costs no timer work per frame.
	 */
	#armLiveness(epoch: number, socket: WebSocketLike): void {
		const clock = this.#config.platform.clock;
		this.#lastFrameAt = clock.now();
		if (this.#livenessTimer) return;
		const check = (delay: number): void => {
			this.#livenessTimer = clock.setTimeout(() => {
				this.#livenessTimer = undefined;
				if (epoch !== this.#epoch) return;
				const silentFor = clock.now() - this.#lastFrameAt;
				if (silentFor < this.#config.livenessTimeoutMs) {
					check(this.#config.livenessTimeoutMs - silentFor);
					return;
				}
				this.#log.warn({ timeoutMs: this.#config.livenessTimeoutMs }, "engine silent, reconnecting");
				this.#lost(epoch, socket, 4001, "runner.liveness_timeout", true);
			}, delay);
		};
		check(this.#config.livenessTimeoutMs);
	}

	/** Handles the end of socket `epoch`, once, however it ended. */
	#lost(epoch: number, socket: WebSocketLike, code: number, reason: string, closeIt: boolean): void {
		if (epoch !== this.#epoch || this.#socket !== socket) return;
		// Anything this socket still delivers (frames already received, a late close) is now ignored.
		this.#epoch++;
		this.#socket = undefined;
		this.#inbound = undefined;
		this.#ready = false;
		this.#handshakeTimer?.();
		this.#livenessTimer?.();
		this.#handshakeTimer = this.#livenessTimer = undefined;
		if (closeIt) {
			try {
				socket.close(code >= 4000 || code === 1000 || code === 1011 ? code : 1000, reason.slice(0, 120));
			} catch {
				// The socket may already be closed; nothing else to do.
			}
		}
		const evicted = parseCloseReason(reason)?.group === "ws" && parseCloseReason(reason)?.code === "eviction";
		this.#log.info({ code, reason }, "engine connection closed");
		const waiters = this.#closeWaiters;
		this.#closeWaiters = [];
		for (const resolve of waiters) resolve();
		this.#hooks.onClosed(code, reason, evicted);
		this.#scheduleReconnect();
	}

	#scheduleReconnect(): void {
		if (this.#stopped || this.#reconnectTimer) return;
		const delay = this.#backoff.next();
		this.#log.info({ delayMs: delay, attempt: this.#backoff.attempt }, "reconnecting to engine");
		this.#reconnectTimer = this.#config.platform.clock.setTimeout(() => {
			this.#reconnectTimer = undefined;
			void this.#open();
		}, delay);
	}
}
