/**
 * Actor events (state updates, intents, alarms): numbering, history until the engine has them, and resend.
 *
 * Each (actor, generation) has its own index sequence. Events are kept until the engine acknowledges them. The
 * engine acknowledges only every 250 events, so the history of an actor that has stopped is also released once a
 * delivery barrier confirms that the engine has read it. Nothing is dropped because an actor was removed.
 *
 * @module
 */
import type { ActorCheckpoint, Event, EventWrapper, ToServer } from "@rivetkit/engine-runner-protocol";
import { RunnerError } from "./errors.ts";

/** What the event log needs from the runner. */
export interface EventHost {
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	/** Resolves once the engine has read everything sent before; rejects if that cannot be confirmed. */
	barrier(actorId: string): Promise<void>;
	/** Reports a failure with no caller. */
	onError(error: RunnerError, actorId: string): void;
	readonly maxHistory: number;
	readonly resendChunk: number;
}

interface Log {
	readonly actorId: string;
	readonly generation: number;
	nextIndex: bigint;
	entries: EventWrapper[];
	/** Set once the actor has stopped: no more events will be added. */
	closed: boolean;
}

/** Event history of every (actor, generation) on this runner. */
export class EventLog {
	readonly #host: EventHost;
	readonly #logs = new Map<string, Log>();
	#size = 0;
	#warnedFull = false;

	/** Creates an empty log. */
	constructor(host: EventHost) {
		this.#host = host;
	}

	/** Events not yet known to be processed by the engine. */
	get size(): number {
		return this.#size;
	}

	/** Numbers, records and sends an event for an actor. Returns the event's index. */
	record(actorId: string, generation: number, inner: Event): bigint {
		const log = this.#open(actorId, generation);
		const wrapper: EventWrapper = { checkpoint: { actorId, generation, index: log.nextIndex++ }, inner };
		log.entries.push(wrapper);
		this.#size++;
		this.#enforceBound();
		this.#host.send({ tag: "ToServerEvents", val: [wrapper] });
		return wrapper.checkpoint.index;
	}

	/** Drops history covered by the engine's acknowledgement (matched by actor and generation). */
	ack(checkpoint: ActorCheckpoint): void {
		const log = this.#logs.get(logKey(checkpoint.actorId, checkpoint.generation));
		if (!log) return;
		this.#prune(log, checkpoint.index);
	}

	/**
	 * Marks an (actor, generation) as finished. Its remaining history is released after a delivery barrier succeeds,
	 * or stays (and is resent after reconnects) until one does.
	 */
	close(actorId: string, generation: number): void {
		const log = this.#logs.get(logKey(actorId, generation));
		if (!log || log.closed) return;
		log.closed = true;
		this.#confirm(log);
	}

	/** Sends all unacknowledged history again, in bounded chunks, oldest first per actor. */
	resendAll(): void {
		const chunk = this.#host.resendChunk;
		let batch: EventWrapper[] = [];
		for (const log of this.#logs.values()) {
			for (const wrapper of log.entries) {
				batch.push(wrapper);
				if (batch.length >= chunk) {
					this.#host.send({ tag: "ToServerEvents", val: batch });
					batch = [];
				}
			}
		}
		if (batch.length > 0) this.#host.send({ tag: "ToServerEvents", val: batch });
		for (const log of this.#logs.values()) if (log.closed) this.#confirm(log);
	}

	/** Forgets everything (the engine gave this runner a new id, so old events can no longer apply). */
	clear(): void {
		this.#logs.clear();
		this.#size = 0;
	}

	#open(actorId: string, generation: number): Log {
		const key = logKey(actorId, generation);
		let log = this.#logs.get(key);
		if (!log) {
			log = { actorId, generation, nextIndex: 0n, entries: [], closed: false };
			this.#logs.set(key, log);
		}
		return log;
	}

	#confirm(log: Log): void {
		const last = log.entries.at(-1)?.checkpoint.index;
		if (last === undefined) {
			this.#logs.delete(logKey(log.actorId, log.generation));
			return;
		}
		this.#host.barrier(log.actorId).then(
			() => this.#prune(log, last),
			() => {
				// Not confirmed (disconnected or shutting down): the history stays and is resent after a reconnect.
			},
		);
	}

	#prune(log: Log, upTo: bigint): void {
		const before = log.entries.length;
		let i = 0;
		while (i < log.entries.length && log.entries[i]!.checkpoint.index <= upTo) i++;
		if (i > 0) log.entries = log.entries.slice(i);
		this.#size -= before - log.entries.length;
		if (log.closed && log.entries.length === 0) this.#logs.delete(logKey(log.actorId, log.generation));
		if (this.#size <= this.#host.maxHistory) this.#warnedFull = false;
	}

	#enforceBound(): void {
		if (this.#size <= this.#host.maxHistory) return;
		for (const log of this.#logs.values()) {
			if (!log.closed || log.entries.length === 0) continue;
			const dropped = log.entries.shift()!;
			this.#size--;
			if (!this.#warnedFull) {
				this.#warnedFull = true;
				this.#host.onError(
					new RunnerError(
						"BUFFER_FULL",
						`event history over ${this.#host.maxHistory}; dropping the oldest events of stopped actors`,
					),
					dropped.checkpoint.actorId,
				);
			}
			if (this.#size <= this.#host.maxHistory) return;
		}
	}
}

function logKey(actorId: string, generation: number): string {
	return `${actorId}:${generation}`;
}
