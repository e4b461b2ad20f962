/**
 * The actor KV store over the engine socket: request ids, correlation, deadlines, and resend after a reconnect.
 *
 * Every KV operation of the protocol is idempotent when repeated in order, so requests that were in flight when the
 * socket dropped are sent again, in their original order, once the runner has reconnected. Each request has one
 * deadline covering the whole wait.
 *
 * @module
 */
import type {
	KvRequestData,
	KvResponseData,
	ToClientKvResponse,
	ToServer,
} from "@rivetkit/engine-runner-protocol";
import { toArrayBuffer } from "./bytes.ts";
import { ConnectionLostError, KvError, RunnerError, RunnerShutdownError, TimeoutError } from "./errors.ts";
import { checkEntries, checkKey, checkKeys, checkLimit } from "./kv-limits.ts";
import type { Cancel, Clock } from "./platform.ts";

/** Options of the list calls. */
export interface KvListOptions {
	/** Largest keys first. @default false */
	reverse?: boolean;
	/** Most entries returned. @default the engine's 16384 */
	limit?: number;
	/** Cancels the wait (the request may still be applied). */
	signal?: AbortSignal;
}

/** Options of the other KV calls. */
export interface KvCallOptions {
	/** Cancels the wait (the request may still be applied). */
	signal?: AbortSignal;
}

/** A key and its value. */
export type KvEntry = [key: Uint8Array, value: Uint8Array];

/** What the KV client needs from the runner. */
export interface KvHost {
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	/** Throws if the actor is not hosted here (so calls fail fast). */
	assertActor(actorId: string): void;
	readonly clock: Clock;
	readonly timeoutMs: number;
	readonly maxPending: number;
}

interface Pending {
	/** A delivery barrier proves something only on the connection it was sent on, so it is never resent. */
	readonly barrier: boolean;
	readonly actorId: string;
	readonly data: KvRequestData;
	readonly resolve: (data: KvResponseData) => void;
	readonly reject: (error: RunnerError) => void;
	readonly cancel: Cancel;
}

const U32 = 0x1_0000_0000;

/** KV client shared by all actors of one runner. */
export class KvClient {
	readonly #host: KvHost;
	readonly #pending = new Map<number, Pending>();
	#nextId = 0;
	#closedWith: RunnerError | undefined;

	/** Creates a client. */
	constructor(host: KvHost) {
		this.#host = host;
	}

	/** Number of requests waiting for an answer. */
	get pending(): number {
		return this.#pending.size;
	}

	/** Values for `keys`, in the same order, `null` where a key does not exist. */
	async get(actorId: string, keys: Uint8Array[], options?: KvCallOptions): Promise<(Uint8Array | null)[]> {
		const checked = checkKeys("keys", keys);
		const response = await this.#request(
			actorId,
			{ tag: "KvGetRequest", val: { keys: checked.map(toArrayBuffer) } },
			options,
		);
		if (response.tag !== "KvGetResponse") throw unexpected(response);
		const found = new Map<string, Uint8Array>();
		response.val.keys.forEach((key, i) => {
			found.set(keyId(new Uint8Array(key)), new Uint8Array(response.val.values[i]!));
		});
		return checked.map((key) => found.get(keyId(key)) ?? null);
	}

	/** Every entry, in key order. */
	async listAll(actorId: string, options?: KvListOptions): Promise<KvEntry[]> {
		return this.#list(actorId, { tag: "KvListAllQuery", val: null }, options);
	}

	/** Entries with `start ≤ key < end` (`≤ end` unless `exclusive`). */
	async listRange(
		actorId: string,
		start: Uint8Array,
		end: Uint8Array,
		exclusive = false,
		options?: KvListOptions,
	): Promise<KvEntry[]> {
		const s = toArrayBuffer(checkKey("start", start));
		const e = toArrayBuffer(checkKey("end", end));
		return this.#list(
			actorId,
			{ tag: "KvListRangeQuery", val: { start: s, end: e, exclusive: exclusive === true } },
			options,
		);
	}

	/** Entries whose key starts with `prefix`. */
	async listPrefix(actorId: string, prefix: Uint8Array, options?: KvListOptions): Promise<KvEntry[]> {
		const key = toArrayBuffer(checkKey("prefix", prefix));
		return this.#list(actorId, { tag: "KvListPrefixQuery", val: { key } }, options);
	}

	/** Writes entries atomically. */
	async put(actorId: string, entries: KvEntry[], options?: KvCallOptions): Promise<void> {
		const { keys, values } = checkEntries("entries", entries);
		const data: KvRequestData = {
			tag: "KvPutRequest",
			val: { keys: keys.map(toArrayBuffer), values: values.map(toArrayBuffer) },
		};
		expect(await this.#request(actorId, data, options), "KvPutResponse");
	}

	/** Deletes keys; missing keys are ignored. */
	async delete(actorId: string, keys: Uint8Array[], options?: KvCallOptions): Promise<void> {
		const checked = checkKeys("keys", keys);
		expect(
			await this.#request(
				actorId,
				{ tag: "KvDeleteRequest", val: { keys: checked.map(toArrayBuffer) } },
				options,
			),
			"KvDeleteResponse",
		);
	}

	/** Deletes keys with `start ≤ key < end`. */
	async deleteRange(
		actorId: string,
		start: Uint8Array,
		end: Uint8Array,
		options?: KvCallOptions,
	): Promise<void> {
		const val = { start: toArrayBuffer(checkKey("start", start)), end: toArrayBuffer(checkKey("end", end)) };
		expect(await this.#request(actorId, { tag: "KvDeleteRangeRequest", val }, options), "KvDeleteResponse");
	}

	/** Deletes the actor's whole store. */
	async drop(actorId: string, options?: KvCallOptions): Promise<void> {
		expect(await this.#request(actorId, { tag: "KvDropRequest", val: null }, options), "KvDropResponse");
	}

	/**
	 * Resolves once the engine has read every frame sent before it: an empty get, whose answer (even an error) can
	 * only come after the engine processed what preceded it. Used to confirm that events reached the engine.
	 */
	barrier(actorId: string): Promise<void> {
		return this.#send(actorId, { tag: "KvGetRequest", val: { keys: [] } }, undefined, true).then(
			() => undefined,
			(error: unknown) => {
				if (error instanceof KvError) return;
				throw error;
			},
		);
	}

	/** Routes an answer from the engine. Unknown ids are ignored (the request timed out or was cancelled). */
	handleResponse(response: ToClientKvResponse): boolean {
		const pending = this.#pending.get(response.requestId);
		if (!pending) return false;
		this.#pending.delete(response.requestId);
		pending.cancel();
		if (response.data.tag === "KvErrorResponse")
			pending.reject(new KvError(response.data.val.message || "unknown KV error"));
		else pending.resolve(response.data);
		return true;
	}

	/**
	 * Sends every waiting request again, oldest first. Called after each successful handshake. Barriers of the old
	 * connection are failed instead (the caller sends new ones).
	 */
	resendAll(): void {
		for (const [requestId, pending] of this.#pending) {
			if (pending.barrier) {
				this.#pending.delete(requestId);
				pending.cancel();
				pending.reject(new ConnectionLostError("the connection the barrier was sent on closed"));
				continue;
			}
			this.#host.send({
				tag: "ToServerKvRequest",
				val: { actorId: pending.actorId, requestId, data: pending.data },
			});
		}
	}

	/** Fails the waiting requests of one actor (or all), e.g. when the actor is gone for good. */
	failAll(error: RunnerError, actorId?: string): void {
		for (const [requestId, pending] of this.#pending) {
			if (actorId !== undefined && pending.actorId !== actorId) continue;
			this.#pending.delete(requestId);
			pending.cancel();
			pending.reject(error);
		}
	}

	/**
	 * Refuses new requests from now on and fails the waiting ones. A request already sent may still have been applied
	 * by the engine; the error says so.
	 */
	close(
		error: RunnerError = new RunnerShutdownError(
			"runner shut down before the engine answered this KV request; it may or may not have been applied",
		),
	): void {
		this.#closedWith = error;
		this.failAll(error);
	}

	async #list(
		actorId: string,
		query: Extract<KvRequestData, { tag: "KvListRequest" }>["val"]["query"],
		options?: KvListOptions,
	): Promise<KvEntry[]> {
		const limit = checkLimit("limit", options?.limit);
		const data: KvRequestData = {
			tag: "KvListRequest",
			val: {
				query,
				reverse: options?.reverse ? true : null,
				limit: limit === undefined ? null : BigInt(limit),
			},
		};
		const response = await this.#request(actorId, data, options);
		if (response.tag !== "KvListResponse") throw unexpected(response);
		return response.val.keys.map(
			(key, i): KvEntry => [new Uint8Array(key), new Uint8Array(response.val.values[i]!)],
		);
	}

	#request(
		actorId: string,
		data: KvRequestData,
		options: KvCallOptions | undefined,
	): Promise<KvResponseData> {
		if (this.#closedWith) return Promise.reject(this.#closedWith);
		try {
			this.#host.assertActor(actorId);
		} catch (error) {
			return Promise.reject(error);
		}
		return this.#send(actorId, data, options?.signal, false);
	}

	#send(
		actorId: string,
		data: KvRequestData,
		signal: AbortSignal | undefined,
		barrier: boolean,
	): Promise<KvResponseData> {
		if (this.#pending.size >= this.#host.maxPending) {
			return Promise.reject(
				new RunnerError("BUFFER_FULL", `too many KV requests in flight (limit ${this.#host.maxPending})`, {
					retryable: true,
				}),
			);
		}
		if (signal?.aborted) return Promise.reject(abortError(signal));
		const requestId = this.#allocateId();
		return new Promise<KvResponseData>((resolve, reject) => {
			const settle = (error: RunnerError): void => {
				if (!this.#pending.delete(requestId)) return;
				cancelTimer();
				signal?.removeEventListener("abort", onAbort);
				reject(error);
			};
			const onAbort = (): void => settle(abortError(signal!));
			const cancelTimer = this.#host.clock.setTimeout(() => {
				settle(
					new TimeoutError(`KV request timed out after ${this.#host.timeoutMs} ms`, { retryable: true }),
				);
			}, this.#host.timeoutMs);
			signal?.addEventListener("abort", onAbort, { once: true });
			this.#pending.set(requestId, {
				barrier,
				actorId,
				data,
				resolve: (value) => {
					signal?.removeEventListener("abort", onAbort);
					resolve(value);
				},
				reject: (error) => {
					signal?.removeEventListener("abort", onAbort);
					reject(error);
				},
				cancel: cancelTimer,
			});
			this.#host.send({ tag: "ToServerKvRequest", val: { actorId, requestId, data } });
		});
	}

	#allocateId(): number {
		for (;;) {
			const id = this.#nextId;
			this.#nextId = (this.#nextId + 1) % U32;
			if (!this.#pending.has(id)) return id;
		}
	}
}

function abortError(signal: AbortSignal): RunnerError {
	return new RunnerError("KV_ERROR", "KV request aborted by its signal", { cause: signal.reason });
}

function keyId(key: Uint8Array): string {
	let out = "";
	for (let i = 0; i < key.length; i++) out += String.fromCharCode(key[i]!);
	return out;
}

function unexpected(response: KvResponseData): RunnerError {
	return new KvError(`unexpected KV response ${response.tag}`);
}

function expect(response: KvResponseData, tag: KvResponseData["tag"]): void {
	if (response.tag !== tag) throw unexpected(response);
}
