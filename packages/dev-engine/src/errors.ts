/**
 * Machine-readable reason of a {@link DevEngineError}.
 *
 * - `BINARY_NOT_FOUND`: the engine binary could not be resolved or is not executable.
 * - `PORT_IN_USE`: a requested port is taken (or cannot be bound).
 * - `DATA_DIR_UNUSABLE`: the data folder cannot be created/written, or another engine holds it.
 * - `EXITED_EARLY`: the engine exited before it became healthy.
 * - `START_TIMEOUT`: the engine did not become healthy in time.
 * - `NOT_RUNNING`: the handle was stopped for good (e.g. `restart()` after `stop()`).
 * - `INVALID_OPTIONS`: options are contradictory (e.g. the same port twice).
 * - `API_ERROR`: a setup API call failed while starting (e.g. creating the namespace).
 *
 * An {@link EngineApiError} carries the engine's own code instead (e.g. "kv_key_not_found").
 */
export type DevEngineErrorCode =
	| "BINARY_NOT_FOUND"
	| "PORT_IN_USE"
	| "DATA_DIR_UNUSABLE"
	| "EXITED_EARLY"
	| "START_TIMEOUT"
	| "NOT_RUNNING"
	| "INVALID_OPTIONS"
	| "API_ERROR";

/** Extra details attached to a {@link DevEngineError}. */
export interface DevEngineErrorDetails {
	/** Tail of the engine's log at the time of the failure (may be empty). */
	logTail?: string;
	/** Underlying error, if any. */
	cause?: unknown;
}

/**
 * Error thrown by this package. `code` tells what went wrong (a {@link DevEngineErrorCode}, or the
 * engine's own code for an {@link EngineApiError}); `logTail` holds the engine's last log lines.
 */
export class DevEngineError extends Error {
	/** What went wrong. */
	readonly code: DevEngineErrorCode | (string & {});
	/** Tail of the engine's log (empty string when the engine never ran). */
	readonly logTail: string;

	constructor(
		code: DevEngineErrorCode | (string & {}),
		message: string,
		details: DevEngineErrorDetails = {},
	) {
		const tail = details.logTail?.trim() ?? "";
		super(tail ? `${message}\n--- engine log (tail) ---\n${tail}` : message, { cause: details.cause });
		this.name = "DevEngineError";
		this.code = code;
		this.logTail = tail;
	}
}

/** A non-2xx answer from the engine's HTTP API. `code`/`group` are the engine's own error identifiers. */
export class EngineApiError extends DevEngineError {
	/** HTTP status code. */
	readonly status: number;
	/** Engine error group (e.g. "actor"), or "" when the body was not an engine error. */
	readonly group: string;
	/** The engine's error code (e.g. "no_runner_config_configured"), or "API_ERROR" when the body had none. */
	declare readonly code: string;
	/** Parsed JSON body (or raw text when the body was not JSON). */
	readonly body: unknown;

	constructor(method: string, url: string, status: number, body: unknown) {
		const info = readEngineError(body);
		const what = info.group ? `${info.group}.${info.code}` : `HTTP ${status}`;
		const detail = info.message ?? (typeof body === "string" ? body.slice(0, 500) : "");
		super(
			info.code || "API_ERROR",
			`${method} ${url} failed with ${status} (${what})${detail ? `: ${detail}` : ""}`,
		);
		this.name = "EngineApiError";
		this.status = status;
		this.group = info.group;
		this.body = body;
	}
}

interface EngineErrorInfo {
	group: string;
	code: string;
	message?: string;
}

function readEngineError(body: unknown): EngineErrorInfo {
	if (typeof body !== "object" || body === null) return { group: "", code: "" };
	const record = body as Record<string, unknown>;
	const str = (v: unknown): string => (typeof v === "string" ? v : "");
	const message = str(record.message);
	return { group: str(record.group), code: str(record.code), ...(message ? { message } : {}) };
}
