/**
 * Typed errors. Every error the runner raises or reports is a {@link RunnerError} with a stable `code`.
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for("@x/runner-core/error") as never;

/** Stable error codes. */
export type RunnerErrorCode =
	| "INVALID_CONFIG"
	| "INVALID_ARGUMENT"
	| "NOT_STARTED"
	| "ALREADY_STARTED"
	| "SHUT_DOWN"
	| "CONNECTION_LOST"
	| "CONNECTION_CLOSED"
	| "EVICTED"
	| "PROTOCOL_ERROR"
	| "TIMEOUT"
	| "ACTOR_NOT_FOUND"
	| "ACTOR_START_FAILED"
	| "ACTOR_STOP_FAILED"
	| "KV_ERROR"
	| "KV_LIMIT"
	| "BUFFER_FULL"
	| "HANDLER_ERROR"
	| "WEBSOCKET_ERROR"
	| "HIBERNATION_ERROR"
	| "UNSUPPORTED";

/** Options accepted by every {@link RunnerError} constructor. */
export interface RunnerErrorOptions {
	/** The underlying error. */
	cause?: unknown;
	/** Whether retrying the same operation later may succeed. @default false */
	retryable?: boolean;
}

/** Base class of every error raised by the runner. Use {@link isRunnerError} rather than `instanceof` across copies. */
export class RunnerError extends Error {
	/** Stable machine-readable code. */
	readonly code: RunnerErrorCode;
	/** Whether retrying the same operation later may succeed. */
	readonly retryable: boolean;
	override name = "RunnerError";

	/** Creates an error with a code and a message. */
	constructor(code: RunnerErrorCode, message: string, options: RunnerErrorOptions = {}) {
		super(message, options.cause === undefined ? undefined : { cause: options.cause });
		this.code = code;
		this.retryable = options.retryable ?? false;
		Object.defineProperty(this, BRAND, { value: true });
	}
}

/** Bad configuration or a bad argument to a public method; `argument` names it. */
export class InvalidArgumentError extends RunnerError {
	override name = "InvalidArgumentError";
	/** The option or parameter that was rejected, e.g. `"endpoint"` or `"keys[3]"`. */
	readonly argument: string;

	/** Creates the error for `argument`. */
	constructor(
		argument: string,
		message: string,
		code: "INVALID_ARGUMENT" | "INVALID_CONFIG" = "INVALID_ARGUMENT",
	) {
		super(code, `${argument}: ${message}`);
		this.argument = argument;
	}
}

/** The runner is shutting down or has shut down. */
export class RunnerShutdownError extends RunnerError {
	override name = "RunnerShutdownError";

	/** Creates the error. */
	constructor(message = "Runner shut down") {
		super("SHUT_DOWN", message);
	}
}

/** The engine connection was lost while the operation was in flight; retrying is safe. */
export class ConnectionLostError extends RunnerError {
	override name = "ConnectionLostError";

	/** Creates the error. */
	constructor(message: string, options: RunnerErrorOptions = {}) {
		super("CONNECTION_LOST", message, { ...options, retryable: true });
	}
}

/** An operation ran past its deadline. */
export class TimeoutError extends RunnerError {
	override name = "TimeoutError";

	/** Creates the error. */
	constructor(message: string, options: RunnerErrorOptions = {}) {
		super("TIMEOUT", message, options);
	}
}

/** The actor is not (or no longer) hosted by this runner. */
export class ActorNotFoundError extends RunnerError {
	override name = "ActorNotFoundError";
	/** The actor that was asked for. */
	readonly actorId: string;

	/** Creates the error for `actorId`. */
	constructor(actorId: string, detail = "is not hosted by this runner") {
		super("ACTOR_NOT_FOUND", `actor ${actorId} ${detail}`);
		this.actorId = actorId;
	}
}

/** Which KV limit was exceeded. */
export type KvLimit = "keySize" | "valueSize" | "keyCount" | "payloadSize";

/** A KV call broke one of the engine's limits; checked before any round trip. */
export class KvLimitError extends RunnerError {
	override name = "KvLimitError";
	/** The limit that was exceeded. */
	readonly limit: KvLimit;
	/** The allowed maximum. */
	readonly max: number;
	/** The size or count that was given. */
	readonly actual: number;

	/** Creates the error. */
	constructor(limit: KvLimit, max: number, actual: number, message: string) {
		super("KV_LIMIT", message);
		this.limit = limit;
		this.max = max;
		this.actual = actual;
	}
}

/** The engine answered a KV request with an error. */
export class KvError extends RunnerError {
	override name = "KvError";

	/** Creates the error with the engine's message. */
	constructor(message: string, options: RunnerErrorOptions = {}) {
		super("KV_ERROR", message, options);
	}
}

/** A frame from the engine could not be decoded or made no sense. */
export class ProtocolError extends RunnerError {
	override name = "ProtocolError";

	/** Creates the error. */
	constructor(message: string, options: RunnerErrorOptions = {}) {
		super("PROTOCOL_ERROR", message, options);
	}
}

/** True for any error raised by this package, including one from another copy of it. */
export function isRunnerError(value: unknown): value is RunnerError {
	return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** Wraps any thrown value in a {@link RunnerError}, keeping the original as `cause`. */
export function toRunnerError(value: unknown, code: RunnerErrorCode, message: string): RunnerError {
	if (isRunnerError(value)) return value;
	return new RunnerError(code, `${message}: ${describeError(value)}`, { cause: value });
}

/** A short, single-line description of any thrown value (no stack). */
export function describeError(value: unknown): string {
	if (value instanceof Error) return value.message || value.name;
	if (typeof value === "string") return value;
	try {
		return JSON.stringify(value) ?? String(value);
	} catch {
		return String(value);
	}
}
