/**
 * Replies that cannot be written now (the engine connection is down, or its socket buffer is over its bound): kept
 * per request, in order, bounded in bytes and age, and written as soon as the connection can take them. A request
 * whose queue is not empty never has a newer message overtake an older one.
 *
 * @module
 */
import type { ToServer, ToServerTunnelMessage } from "@rivetkit/engine-runner-protocol";
import { RunnerError } from "../errors.ts";
import type { Cancel, Clock } from "../platform.ts";

/** What the outbox needs from the runner. */
export interface OutboxHost {
	/** Writes a message; false when it cannot be written now. */
	send(message: ToServer): boolean;
	/** Whether the connection is up (so a retry timer is worth running). */
	ready(): boolean;
	readonly clock: Clock;
	/** Most bytes kept across all requests. */
	readonly maxBytes: number;
	/** Oldest message kept, in milliseconds. */
	readonly maxAgeMs: number;
	/** Messages were dropped (over a bound); the request's queue is already discarded. */
	onDrop(error: RunnerError, requestKey: string): void;
}

interface Queued {
	readonly message: ToServerTunnelMessage;
	readonly size: number;
	readonly at: number;
}

const RETRY_MS = 20;

/** Per-request FIFO of tunnel messages waiting for the connection. */
export class Outbox {
	readonly #host: OutboxHost;
	readonly #queues = new Map<string, Queued[]>();
	#bytes = 0;
	#retry: Cancel | undefined;

	/** Creates an empty outbox. */
	constructor(host: OutboxHost) {
		this.#host = host;
	}

	/** Bytes waiting. */
	get bytes(): number {
		return this.#bytes;
	}

	/** Bytes waiting for one request. */
	bytesFor(requestKey: string): number {
		let n = 0;
		for (const entry of this.#queues.get(requestKey) ?? []) n += entry.size;
		return n;
	}

	/** Messages waiting. */
	get count(): number {
		let n = 0;
		for (const queue of this.#queues.values()) n += queue.length;
		return n;
	}

	/**
	 * Writes now if possible and nothing older is waiting for the same request; queues otherwise. Returns false when
	 * the message did not fit: the request's waiting messages are then discarded and `onDrop` is called.
	 */
	push(requestKey: string, message: ToServerTunnelMessage, size: number): boolean {
		const queue = this.#queues.get(requestKey);
		if (!queue && this.#host.send({ tag: "ToServerTunnelMessage", val: message })) return true;
		this.#expire();
		if (this.#bytes + size > this.#host.maxBytes) {
			this.discard(requestKey);
			this.#host.onDrop(
				new RunnerError(
					"BUFFER_FULL",
					`reply buffer full (${this.#host.maxBytes} bytes) while the engine connection could not take more; a ${message.messageKind.tag} was dropped`,
				),
				requestKey,
			);
			return false;
		}
		const entry = { message, size, at: this.#host.clock.now() };
		const current = this.#queues.get(requestKey);
		if (current) current.push(entry);
		else this.#queues.set(requestKey, [entry]);
		this.#bytes += size;
		this.#scheduleRetry();
		return true;
	}

	/** Writes what is waiting, oldest request first, until the connection refuses. */
	flush(): void {
		this.#retry?.();
		this.#retry = undefined;
		this.#expire();
		for (const [key, queue] of this.#queues) {
			while (queue.length > 0) {
				const head = queue[0]!;
				if (!this.#host.send({ tag: "ToServerTunnelMessage", val: head.message })) {
					this.#scheduleRetry();
					return;
				}
				queue.shift();
				this.#bytes -= head.size;
			}
			this.#queues.delete(key);
		}
	}

	/** Forgets a request's waiting messages. */
	discard(requestKey: string): void {
		const queue = this.#queues.get(requestKey);
		if (!queue) return;
		for (const entry of queue) this.#bytes -= entry.size;
		this.#queues.delete(requestKey);
	}

	/** Cancels the retry timer (shutdown). */
	close(): void {
		this.#retry?.();
		this.#retry = undefined;
	}

	#scheduleRetry(): void {
		if (this.#retry || this.#queues.size === 0 || !this.#host.ready()) return;
		this.#retry = this.#host.clock.setTimeout(() => {
			this.#retry = undefined;
			this.flush();
		}, RETRY_MS);
	}

	#expire(): void {
		const oldest = this.#host.clock.now() - this.#host.maxAgeMs;
		for (const [key, queue] of this.#queues) {
			if (queue[0] && queue[0].at < oldest) {
				this.discard(key);
				this.#host.onDrop(
					new RunnerError(
						"TIMEOUT",
						`replies waited longer than ${this.#host.maxAgeMs} ms for the engine connection and were dropped`,
					),
					key,
				);
			}
		}
	}
}
