/**
 * Actor events (state updates, intents, alarms): numbering, history until the engine has them, and resend.
 *
 * Each (actor, generation) has its own index sequence. Events are kept until the engine acknowledges them. The
 * engine acknowledges only every 250 events, so the history of an actor that has stopped is also released once a
 * delivery barrier confirms that the engine has read it. Nothing is dropped because an actor was removed.
 *
 * A hosted actor carries its own history (see {@link EventHistory}): a runner may host thousands of idle actors,
 * each holding its running event, which the real engine never acknowledges, so the history costs two fields and a
 * shared one-element array rather than an object and a map entry. Once an actor stops, its history moves here until
 * the barrier confirms it.
 *
 * @module
 */
import type { ActorCheckpoint, Event, EventWrapper, ToServer } from "@rivetkit/engine-runner-protocol";
import { RunnerError } from "./errors.ts";

/**
 * The event history of one (actor, generation). Indices are contiguous: `unconfirmed[i]` has index
 * `eventCount - unconfirmed.length + i`, so only the events are stored and their wrappers are made when sent.
 */
export interface EventHistory {
	readonly actorId: string;
	readonly generation: number;
	/** Events recorded so far: the index the next one gets. */
	eventCount: number;
	/** Events not yet known to be processed by the engine, oldest first; {@link NO_EVENTS} when there are none. */
	unconfirmed: Event[];
}

/** The shared empty history. Never written to: {@link EventLog.record} replaces it with a new array. */
export const NO_EVENTS: Event[] = [];

/** What the event log needs from the runner. */
export interface EventHost {
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	/** Resolves once the engine has read everything sent before; rejects if that cannot be confirmed. */
	barrier(actorId: string): Promise<void>;
	/** Reports a failure with no caller. */
	onError(error: RunnerError, actorId: string): void;
	/** The history of this generation of a hosted actor (or one still stopping), if any. */
	hosted(actorId: string, generation: number): EventHistory | undefined;
	/** The histories of every hosted actor (and of those still stopping), older generations first. */
	allHosted(): Iterable<EventHistory>;
	readonly maxHistory: number;
	readonly resendChunk: number;
}

/** The wrapper of `history.unconfirmed[i]`, as sent. */
function wrap(history: EventHistory, i: number): EventWrapper {
	const index = BigInt(history.eventCount - history.unconfirmed.length + i);
	const checkpoint = { actorId: history.actorId, generation: history.generation, index };
	return { checkpoint, inner: history.unconfirmed[i]! };
}

/** Event history of every (actor, generation) on this runner. */
export class EventLog {
	readonly #host: EventHost;
	/** actorId → histories of stopped generations still waiting for confirmation, oldest first. */
	readonly #closed = new Map<string, EventHistory[]>();
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

	/** Numbers, records and sends an event of an actor. Returns the event's index. */
	record(history: EventHistory, inner: Event): bigint {
		history.eventCount++;
		// A one-element literal rather than a push onto an empty array, which would reserve room for 17.
		if (history.unconfirmed.length === 0) history.unconfirmed = [inner];
		else history.unconfirmed.push(inner);
		this.#size++;
		const wrapper = wrap(history, history.unconfirmed.length - 1);
		this.#enforceBound();
		this.#host.send({ tag: "ToServerEvents", val: [wrapper] });
		return wrapper.checkpoint.index;
	}

	/** Drops history covered by the engine's acknowledgement (matched by actor and generation). */
	ack(checkpoint: ActorCheckpoint): void {
		const history = this.#find(checkpoint.actorId, checkpoint.generation);
		if (history) this.#prune(history, checkpoint.index);
	}

	/**
	 * Marks an (actor, generation) as finished: no more events will be added. Its remaining history is released
	 * after a delivery barrier succeeds, or stays (and is resent after reconnects) until one does.
	 */
	close(history: EventHistory): void {
		if (history.unconfirmed.length === 0 || this.#isClosed(history)) return;
		const list = this.#closed.get(history.actorId);
		if (list) list.push(history);
		else this.#closed.set(history.actorId, [history]);
		this.#confirm(history);
	}

	/** Sends all unacknowledged history again, in bounded chunks: stopped generations first, each oldest first. */
	resendAll(): void {
		const chunk = this.#host.resendChunk;
		let batch: EventWrapper[] = [];
		const send = (history: EventHistory): void => {
			for (let i = 0; i < history.unconfirmed.length; i++) {
				batch.push(wrap(history, i));
				if (batch.length >= chunk) {
					this.#host.send({ tag: "ToServerEvents", val: batch });
					batch = [];
				}
			}
		};
		const closed = [...this.#closed.values()].flat();
		for (const history of closed) send(history);
		for (const history of this.#host.allHosted()) if (!this.#isClosed(history)) send(history);
		if (batch.length > 0) this.#host.send({ tag: "ToServerEvents", val: batch });
		for (const history of closed) this.#confirm(history);
	}

	/**
	 * Forgets everything (the engine gave this runner a new id, so old events can no longer apply); the hosted
	 * actors number their events from 0 again.
	 */
	clear(): void {
		// A barrier still pending for a stopped actor then finds nothing to release.
		for (const list of this.#closed.values()) for (const history of list) history.unconfirmed = NO_EVENTS;
		this.#closed.clear();
		for (const history of this.#host.allHosted()) {
			history.unconfirmed = NO_EVENTS;
			history.eventCount = 0;
		}
		this.#size = 0;
	}

	#find(actorId: string, generation: number): EventHistory | undefined {
		return (
			this.#host.hosted(actorId, generation) ??
			this.#closed.get(actorId)?.find((history) => history.generation === generation)
		);
	}

	#isClosed(history: EventHistory): boolean {
		return this.#closed.get(history.actorId)?.includes(history) ?? false;
	}

	#release(history: EventHistory): void {
		const list = this.#closed.get(history.actorId);
		const at = list?.indexOf(history) ?? -1;
		if (!list || at < 0) return;
		list.splice(at, 1);
		if (list.length === 0) this.#closed.delete(history.actorId);
	}

	#confirm(history: EventHistory): void {
		const last = BigInt(history.eventCount - 1);
		this.#host.barrier(history.actorId).then(
			() => this.#prune(history, last),
			() => {
				// Not confirmed (disconnected or shutting down): the history stays and is resent after a reconnect.
			},
		);
	}

	#prune(history: EventHistory, upTo: bigint): void {
		const { unconfirmed } = history;
		const first = history.eventCount - unconfirmed.length;
		const covered = upTo < BigInt(first) ? 0 : Math.min(unconfirmed.length, Number(upTo) - first + 1);
		if (covered === unconfirmed.length) history.unconfirmed = NO_EVENTS;
		else if (covered > 0) history.unconfirmed = unconfirmed.slice(covered);
		this.#size -= covered;
		if (history.unconfirmed.length === 0) this.#release(history);
		if (this.#size <= this.#host.maxHistory) this.#warnedFull = false;
	}

	#enforceBound(): void {
		if (this.#size <= this.#host.maxHistory) return;
		for (const history of [...this.#closed.values()].flat()) {
			history.unconfirmed.shift();
			this.#size--;
			if (history.unconfirmed.length === 0) this.#release(history);
			if (!this.#warnedFull) {
				this.#warnedFull = true;
				this.#host.onError(
					new RunnerError(
						"BUFFER_FULL",
						`event history over ${this.#host.maxHistory}; dropping the oldest events of stopped actors`,
					),
					history.actorId,
				);
			}
			if (this.#size <= this.#host.maxHistory) return;
		}
	}
}
