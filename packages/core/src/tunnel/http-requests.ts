/**
 * In-flight tunnelled HTTP requests: start, streamed body chunks, abort, and the reply.
 *
 * @module
 */
import type { ToClientRequestChunk, ToClientRequestStart } from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "../actor.ts";
import { RunnerShutdownError } from "../errors.ts";
import { LazyAbort } from "../lazy-abort.ts";
import type { Runner } from "../runner.ts";
import { toHeaderMap } from "./headers.ts";
import {
	type BodyFeed,
	buildRequest,
	createBodyFeed,
	encodeResponse,
	errorResponse,
	handlerError,
	handlerFailedResponse,
	MAX_BODY_BYTES,
} from "./http.ts";
import type { RequestContext } from "./options.ts";
import type { Channel, TunnelCore } from "./tunnel.ts";

interface HttpChannel extends Channel {
	readonly abort: LazyAbort;
	readonly feed: BodyFeed | undefined;
	done: boolean;
}

/**
 * The context of one request. `gatewayId`, `requestId` and `signal` are prototype getters, made on first read: most
 * handlers never look at them.
 */
class HttpContext implements RequestContext {
	readonly actorId: string;
	readonly generation: number;
	readonly runner: Runner;
	readonly #channel: HttpChannel;
	readonly #core: TunnelCore;
	#ids: { gatewayId: string; requestId: string } | undefined;

	constructor(actor: ActorRecord, channel: HttpChannel, core: TunnelCore) {
		this.actorId = actor.actorId;
		this.generation = actor.generation;
		this.runner = core.host.runner;
		this.#channel = channel;
		this.#core = core;
	}

	get gatewayId(): string {
		return this.#idPair().gatewayId;
	}

	get requestId(): string {
		return this.#idPair().requestId;
	}

	#idPair(): { gatewayId: string; requestId: string } {
		this.#ids ??= this.#core.ids(this.#channel);
		return this.#ids;
	}

	get signal(): AbortSignal {
		return this.#channel.abort.signal;
	}
}

/** The HTTP half of the tunnel. */
export class HttpRequests {
	readonly #core: TunnelCore;
	readonly #requests = new Map<string, HttpChannel>();

	/** Creates the HTTP half. */
	constructor(core: TunnelCore) {
		this.#core = core;
	}

	/** Number of requests in flight. */
	get size(): number {
		return this.#requests.size;
	}

	/** A request starts: build it, run the actor's `fetch`, reply. */
	start(key: string, gatewayId: ArrayBuffer, requestId: ArrayBuffer, start: ToClientRequestStart): void {
		const previous = this.#requests.get(key);
		if (previous) this.#finish(previous, "replaced by a retried request");
		const channel: HttpChannel = {
			key,
			actorId: start.actorId,
			gatewayId,
			requestId,
			nextIndex: 0,
			abort: new LazyAbort(),
			feed: start.stream ? createBodyFeed() : undefined,
			done: false,
			onOverflow: () => {
				if (overflowed) return;
				overflowed = true;
				this.#core.reply(
					channel,
					errorResponse(503, "runner", "buffer_full", "the runner's reply buffer was full"),
					512,
				);
			},
		};
		let overflowed = false;
		this.#requests.set(key, channel);
		this.#core.track(channel);
		void this.#serve(channel, start);
	}

	/** A streamed body chunk. */
	chunk(key: string, chunk: ToClientRequestChunk): void {
		this.#requests.get(key)?.feed?.push(new Uint8Array(chunk.body), chunk.finish);
	}

	/** The engine aborted the request. */
	abort(key: string): void {
		const channel = this.#requests.get(key);
		if (channel) this.#finish(channel, "request aborted by the engine");
	}

	/** The actor stopped: abort its requests (their replies are still sent if the handler produces one). */
	actorStopped(key: string, actor: ActorRecord): void {
		const channel = this.#requests.get(key);
		if (channel && channel.actorId === actor.actorId) channel.abort.abort(new Error("actor stopped"));
	}

	/** The runner is shutting down. */
	shutdown(): void {
		for (const channel of [...this.#requests.values()]) this.#finish(channel, new RunnerShutdownError());
	}

	async #serve(channel: HttpChannel, start: ToClientRequestStart): Promise<void> {
		const { host } = this.#core;
		const actor = host.getActor(start.actorId);
		if (!actor) {
			return this.#send(
				channel,
				errorResponse(
					503,
					"runner",
					"actor_not_found",
					`actor ${start.actorId} is not hosted by this runner`,
				),
			);
		}
		try {
			if (actor.state !== "running") await actor.started;
		} catch {
			return this.#send(
				channel,
				errorResponse(503, "runner", "actor_start_failed", `actor ${start.actorId} failed to start`),
			);
		}
		const fetch = host.config.options.fetch;
		if (!fetch)
			return this.#send(
				channel,
				errorResponse(501, "runner", "fetch_not_implemented", "this runner has no fetch handler"),
			);
		const context = new HttpContext(actor, channel, this.#core);
		try {
			const request = buildRequest(start, channel.abort, channel.feed);
			const response = await fetch(request, context);
			if (!(response instanceof Response))
				throw new TypeError(
					`fetch must return a Response, got ${response === null ? "null" : typeof response}`,
				);
			if (host.config.options.streamResponses && response.body && start.method.toUpperCase() !== "HEAD") {
				await this.#stream(channel, response, response.body);
				return;
			}
			const { kind, error } = await encodeResponse(
				response,
				host.config.options.maxResponseBodyBytes ?? MAX_BODY_BYTES,
				start.method,
			);
			if (error) host.onError(error, "tunnel", actor.actorId);
			this.#send(channel, kind);
		} catch (error) {
			if (channel.abort.aborted) {
				return this.#send(
					channel,
					errorResponse(
						503,
						"runner",
						"request_aborted",
						"the request was aborted (actor stopped or runner shutting down)",
					),
				);
			}
			host.onError(handlerError(actor.actorId, error), "tunnel", actor.actorId);
			this.#send(channel, handlerFailedResponse());
		}
	}

	/**
	 * Streams the body: `ToServerResponseStart{stream: true}`, one `ToServerResponseChunk` per body chunk, and a final
	 * chunk with `finish`; a body that fails midway ends with `ToServerResponseAbort`. Only for engines whose gateway
	 * forwards chunks (engine 2.3.x drops them), hence the `streamResponses` option.
	 */
	async #stream(channel: HttpChannel, response: Response, body: ReadableStream<Uint8Array>): Promise<void> {
		if (this.#requests.get(channel.key) !== channel) return;
		const reply = (kind: Parameters<TunnelCore["reply"]>[1], size: number): void =>
			this.#core.reply(channel, kind, size);
		reply(
			{
				tag: "ToServerResponseStart",
				val: { status: response.status, headers: toHeaderMap(response.headers), body: null, stream: true },
			},
			256,
		);
		const reader = body.getReader();
		try {
			for (;;) {
				const { done, value } = await reader.read();
				if (done) break;
				for (let offset = 0; offset < value.length; offset += MAX_BODY_BYTES) {
					const part = value.slice(offset, offset + MAX_BODY_BYTES);
					reply(
						{ tag: "ToServerResponseChunk", val: { body: part.buffer as ArrayBuffer, finish: false } },
						part.length + 64,
					);
				}
			}
			reply({ tag: "ToServerResponseChunk", val: { body: new ArrayBuffer(0), finish: true } }, 64);
		} catch (error) {
			this.#core.host.onError(handlerError(channel.actorId, error), "tunnel", channel.actorId);
			reply({ tag: "ToServerResponseAbort", val: null }, 32);
		} finally {
			this.#finish(channel, undefined);
		}
	}

	#send(channel: HttpChannel, kind: Parameters<TunnelCore["reply"]>[1]): void {
		if (this.#requests.get(channel.key) !== channel) return;
		const body = kind.tag === "ToServerResponseStart" ? (kind.val.body?.byteLength ?? 0) : 0;
		this.#core.reply(channel, kind, body + 256);
		this.#finish(channel, undefined);
	}

	#finish(channel: HttpChannel, reason: unknown): void {
		channel.done = true;
		if (this.#requests.get(channel.key) === channel) this.#requests.delete(channel.key);
		this.#core.untrack(channel);
		if (reason !== undefined) {
			channel.feed?.abort(reason);
			channel.abort.abort(reason);
		}
	}
}
