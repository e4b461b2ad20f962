/**
 * Tunnelled HTTP: `ToClientRequestStart` (plus chunks when the engine streams a body) becomes a standard `Request`;
 * the handler's `Response` goes back as one buffered `ToServerResponseStart`.
 *
 * @module
 */
import type { ToClientRequestStart, ToServerTunnelMessageKind } from "@rivetkit/engine-runner-protocol";
import { concatBytes, utf8Encode } from "../bytes.ts";
import { describeError, RunnerError } from "../errors.ts";
import type { LazyAbort } from "../lazy-abort.ts";
import { toHeaderMap } from "./headers.ts";

/** The engine's largest response body (20 MiB). */
export const MAX_BODY_BYTES: number = 20 * 1024 * 1024;

/** Bodyless methods: a body sent with them is dropped rather than failing the request. */
const NO_BODY = new Set(["GET", "HEAD"]);

/** A streamed request body being fed by `ToClientRequestChunk`. */
export interface BodyFeed {
	readonly stream: ReadableStream<Uint8Array>;
	push(chunk: Uint8Array, finish: boolean): void;
	abort(reason: unknown): void;
}

/** A body stream fed chunk by chunk. */
export function createBodyFeed(): BodyFeed {
	let controller!: ReadableStreamDefaultController<Uint8Array>;
	let done = false;
	const stream = new ReadableStream<Uint8Array>({
		start: (c) => {
			controller = c;
		},
	});
	return {
		stream,
		push(chunk, finish) {
			if (done) return;
			if (chunk.length > 0) controller.enqueue(chunk);
			if (finish) {
				done = true;
				controller.close();
			}
		},
		abort(reason) {
			if (done) return;
			done = true;
			controller.error(reason);
		},
	};
}

/**
 * The `Request` handed to the actor's `fetch`. Its `signal` is the request's lazily made abort signal: a `Request`
 * built with a signal costs the runtime a linked controller per request even when nobody listens.
 */
class TunnelRequest extends Request {
	readonly #abort: LazyAbort;

	constructor(url: string, init: RequestInit, abort: LazyAbort) {
		super(url, init);
		this.#abort = abort;
	}

	static {
		Object.defineProperty(TunnelRequest.prototype, "signal", {
			configurable: true,
			get(this: TunnelRequest): AbortSignal {
				return this.#abort.signal;
			},
		});
	}
}

/** Builds the `Request` handed to the actor's `fetch`. */
export function buildRequest(
	start: ToClientRequestStart,
	abort: LazyAbort,
	feed: BodyFeed | undefined,
): Request {
	const method = start.method.toUpperCase();
	const path = start.path.startsWith("/") ? start.path : `/${start.path}`;
	const init: RequestInit & { duplex?: "half" } = { method, headers: [...start.headers] };
	if (!NO_BODY.has(method)) {
		if (feed) {
			init.body = feed.stream;
			init.duplex = "half";
		} else if (start.body !== null) {
			init.body = start.body;
		}
	}
	const url = `http://actor${path}`;
	try {
		return new TunnelRequest(url, init, abort);
	} catch {
		init.headers = acceptedHeaders(start.headers);
		return new TunnelRequest(url, init, abort);
	}
}

/** The headers the Fetch API accepts, one by one; a refused one (e.g. a forbidden byte) is left out. */
function acceptedHeaders(source: ReadonlyMap<string, string>): Headers {
	const headers = new Headers();
	for (const [name, value] of source) {
		try {
			headers.append(name, value);
		} catch {
			// Left out rather than failing the request.
		}
	}
	return headers;
}

/** A plain-text (or JSON) error reply, with the `x-rivet-error` header the engine's gateway understands. */
export function errorResponse(
	status: number,
	group: string,
	code: string,
	message: string,
): ToServerTunnelMessageKind {
	const body = utf8Encode(JSON.stringify({ group, code, message }));
	return {
		tag: "ToServerResponseStart",
		val: {
			status,
			headers: new Map([
				["content-type", "application/json"],
				["content-length", String(body.length)],
				["x-rivet-error", `${group}.${code}`],
			]),
			body: body.buffer as ArrayBuffer,
			stream: false,
		},
	};
}

/**
 * Reads the handler's response fully, within `maxBytes`. Over the limit, the reply is a 500 saying so rather than a
 * truncated body.
 */
export async function encodeResponse(
	response: Response,
	maxBytes: number,
	method: string,
): Promise<{ kind: ToServerTunnelMessageKind; error?: RunnerError }> {
	const body = method.toUpperCase() === "HEAD" ? new Uint8Array(0) : await readLimited(response, maxBytes);
	if (body === null) {
		const error = new RunnerError(
			"BUFFER_FULL",
			`response body is larger than the engine's limit of ${maxBytes} bytes`,
		);
		return { kind: errorResponse(500, "runner", "response_too_large", error.message), error };
	}
	const headers = toHeaderMap(response.headers);
	if (!headers.has("content-length") && method.toUpperCase() !== "HEAD")
		headers.set("content-length", String(body.length));
	return {
		kind: {
			tag: "ToServerResponseStart",
			val: {
				status: response.status,
				headers,
				body: body.length === 0 ? null : wholeBuffer(body),
				stream: false,
			},
		},
	};
}

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array | null> {
	const declared = Number(response.headers.get("content-length"));
	if (Number.isFinite(declared) && declared > maxBytes) {
		await response.body?.cancel().catch(() => {});
		return null;
	}
	if (!response.body) return new Uint8Array(0);
	const reader = response.body.getReader();
	const parts: Uint8Array[] = [];
	let total = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		total += value.length;
		if (total > maxBytes) {
			await reader.cancel().catch(() => {});
			return null;
		}
		parts.push(value);
	}
	return parts.length === 1 ? parts[0]! : concatBytes(parts);
}

/** The bytes as an `ArrayBuffer` of their own: the underlying buffer when they span all of it, else a copy. */
function wholeBuffer(bytes: Uint8Array): ArrayBuffer {
	const { buffer } = bytes;
	if (buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === buffer.byteLength)
		return buffer;
	return bytes.slice().buffer as ArrayBuffer;
}

/** The 500 sent when a handler throws: no stack, no message from the error. */
export function handlerFailedResponse(): ToServerTunnelMessageKind {
	return errorResponse(500, "runner", "handler_error", "Internal Server Error");
}

/** Wraps a handler failure for `onError`. */
export function handlerError(actorId: string, error: unknown): RunnerError {
	return new RunnerError(
		"HANDLER_ERROR",
		`fetch handler of actor ${actorId} failed: ${describeError(error)}`,
		{ cause: error },
	);
}
