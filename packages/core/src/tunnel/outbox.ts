/**
 * Replies produced while the engine connection is down: kept per request, in order, bounded in bytes and age, and
 * sent after the reconnect. A request whose queue is not empty never has a newer message overtake an older one.
 *
 * @module
 */
import type { ToServer, ToServerTunnelMessage } from "@rivetkit/engine-runner-protocol";
import { RunnerError } from "../errors.ts";
import type { Clock } from "../platform.ts";

/** What the outbox needs from the runner. */
export interface OutboxHost {
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	readonly clock: Clock;
	/** Most bytes kept across all requests. */
	readonly maxBytes: number;
	/** Oldest message kept, in milliseconds. */
	readonly maxAgeMs: number;
	/** A message had to be dropped (over a bound). */
	onDrop(error: RunnerError, requestKey: string): void;
}

interface Queued {
	readonly message: ToServerTunnelMessage;
	readonly size: number;
	readonly at: number;
}

/** Per-request FIFO of tunnel messages waiting for the connection. */
export class Outbox {
	readonly #host: OutboxHost;
	readonly #queues = new Map<string, Queued[]>();
	#bytes = 0;

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

	/** Sends now if possible and nothing older is waiting for the same request; queues otherwise. */
	push(requestKey: string, message: ToServerTunnelMessage, size: number): void {
		const queue = this.#queues.get(requestKey);
		if (!queue && this.#host.send({ tag: "ToServerTunnelMessage", val: message })) return;
		this.#expire();
		if (this.#bytes + size > this.#host.maxBytes) {
			this.#host.onDrop(
				new RunnerError(
					"BUFFER_FULL",
					`reply buffer full (${this.#host.maxBytes} bytes) while disconnected; a ${message.messageKind.tag} was dropped`,
				),
				requestKey,
			);
			return;
		}
		const entry = { message, size, at: this.#host.clock.now() };
		if (queue) queue.push(entry);
		else this.#queues.set(requestKey, [entry]);
		this.#bytes += size;
	}

	/** Sends what is waiting, oldest request first, until the connection refuses. */
	flush(): void {
		this.#expire();
		for (const [key, queue] of this.#queues) {
			while (queue.length > 0) {
				const head = queue[0]!;
				if (!this.#host.send({ tag: "ToServerTunnelMessage", val: head.message })) return;
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
