/**
 * The ports through which the runtime-neutral core reaches its host: a WebSocket factory, a clock and a logger.
 * Each adapter package (`@x/runner-node`, `@x/runner-bun`, `@x/runner-deno`) fills them in; tests inject fakes.
 *
 * @module
 */

/** Cancels a timer created by {@link Clock.setTimeout}. Calling it twice is harmless. */
export type Cancel = () => void;

/** Time source and timers. Injected so that tests can drive time by hand. */
export interface Clock {
	/** Milliseconds since the Unix epoch. */
	now(): number;
	/** Runs `fn` once after `ms` milliseconds and returns a function that cancels it. */
	setTimeout(fn: () => void, ms: number): Cancel;
}

/** Event passed to a {@link WebSocketLike} `message` listener. */
export interface SocketMessageEvent {
	/** `ArrayBuffer`, a typed array, a `Blob` or a string, depending on the runtime. */
	readonly data: unknown;
}

/** Event passed to a {@link WebSocketLike} `close` listener. */
export interface SocketCloseEvent {
	/** Close code, 1005 when none was given. */
	readonly code: number;
	/** Close reason, empty when none was given. */
	readonly reason: string;
}

/** Listener map of the events the core subscribes to on its engine socket. */
export interface SocketEventMap {
	open: unknown;
	message: SocketMessageEvent;
	close: SocketCloseEvent;
	error: unknown;
}

/**
 * The subset of the WHATWG `WebSocket` that the core needs for its one connection to the engine. The browser
 * `WebSocket`, Bun's and Deno's globals, Node 22's global and the `ws` package all satisfy it structurally.
 */
export interface WebSocketLike {
	/** 0 connecting, 1 open, 2 closing, 3 closed. */
	readonly readyState: number;
	/** Bytes queued but not yet sent; used for backpressure when the runtime reports it. */
	readonly bufferedAmount?: number;
	/** The core sets this to `"arraybuffer"` right after creating the socket. */
	binaryType: string;
	/** Queues a frame; binary data goes out as a binary frame. */
	send(data: Uint8Array | ArrayBuffer | string): void;
	/** Starts the closing handshake. */
	close(code?: number, reason?: string): void;
	/** Subscribes to one of the socket's events. */
	addEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void;
	/** Unsubscribes a listener added with `addEventListener`. */
	removeEventListener<K extends keyof SocketEventMap>(
		type: K,
		listener: (event: SocketEventMap[K]) => void,
	): void;
}

/** Opens a WebSocket to `url` offering `protocols`. It must not throw for a reachable URL; errors surface as events. */
export type WebSocketFactory = (url: string, protocols: string[]) => WebSocketLike;

/** A log method: pino's `(object, message)` shape. */
export type LogFn = (object: Record<string, unknown>, message?: string) => void;

/** Log levels, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error";

/**
 * A pino-shaped structured logger. `pino()` satisfies it, as does the console logger the core ships.
 * `isLevelEnabled` lets the core skip building debug strings when the level is off.
 */
export interface Logger {
	/** Very detailed output (every frame). */
	trace: LogFn;
	/** Diagnostic output. */
	debug: LogFn;
	/** Normal lifecycle output. */
	info: LogFn;
	/** Something unexpected that the runner handled. */
	warn: LogFn;
	/** Something failed. */
	error: LogFn;
	/** A logger that adds `bindings` to every line. */
	child(bindings: Record<string, unknown>): Logger;
	/** Whether `level` would be written. Assumed true when absent. */
	isLevelEnabled?(level: string): boolean;
}

import type { SignalSource } from "./signals.ts";

/** Everything the core needs from its host. */
export interface Platform {
	/** Opens the engine WebSocket. */
	webSocket: WebSocketFactory;
	/** Time and timers. */
	clock: Clock;
	/** Structured logger. */
	logger: Logger;
	/** Uniform random number in [0, 1), used for backoff jitter. @default Math.random */
	random?: () => number;
	/** Random UUID, used as the runner key. @default crypto.randomUUID */
	randomUUID?: () => string;
	/** Process signals; without it the runner never reacts to signals. @default none */
	signals?: SignalSource;
}
