/**
 * Engine commands (start and stop actor) and their acknowledgement.
 *
 * Replays are harmless by construction: the engine re-sends every command it has not seen acknowledged after each
 * reconnect, so a start is acted on only for a generation newer than any this runner has started for that actor, and
 * a stop only for the generation that is currently hosted. Every command is acknowledged promptly: a start as soon as
 * the actor is registered, a stop once the actor has been reported stopped, a no-op at once.
 *
 * @module
 */
import type { ActorCheckpoint, CommandWrapper, ToServer } from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "./actor.ts";
import type { Actors } from "./actors.ts";
import type { Logger } from "./platform.ts";
import type { StopReason } from "./types.ts";

/** Most distinct actor names shared; past it, names are simply not shared. */
const MAX_NAMES = 1024;

/** What the command handler needs from the runner. */
export interface CommandHost {
	readonly actors: Actors;
	readonly log: Logger;
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	/** Most remembered (actor → newest generation started here) entries for actors no longer hosted. */
	readonly maxTombstones: number;
	/** Called for each new actor before `onActorStart` runs (the tunnel maps hibernating requests here). */
	onRegistered?(
		actor: ActorRecord,
		command: Extract<CommandWrapper["inner"], { tag: "CommandStartActor" }>["val"],
	): void;
}

/** Handles `ToClientCommands` and keeps the acknowledgements flowing. */
export class CommandHandler {
	readonly #host: CommandHost;
	/**
	 * actorId → newest generation started here, for actors no longer hosted (a hosted actor's own generation serves
	 * while it is); insertion order doubles as LRU order.
	 */
	readonly #tombstones = new Map<string, number>();
	/** Actor names seen, so that thousands of actors of a few kinds share one string per name. */
	readonly #names = new Map<string, string>();
	/** Acknowledgements not yet written (the socket was down), keyed by actor and generation. */
	readonly #unsentAcks = new Map<string, ActorCheckpoint>();

	/** Creates a handler. */
	constructor(host: CommandHost) {
		this.#host = host;
	}

	/** Acts on a batch of commands, in order. */
	handle(commands: readonly CommandWrapper[]): void {
		const acks: ActorCheckpoint[] = [];
		for (const command of commands) {
			const { checkpoint } = command;
			if (command.inner.tag === "CommandStartActor") {
				if (this.#isNewStart(checkpoint)) this.#start(checkpoint, command.inner.val);
				else
					this.#host.log.debug(
						{ actorId: checkpoint.actorId, generation: checkpoint.generation },
						"ignoring replayed start",
					);
				acks.push(checkpoint);
			} else {
				const actor = this.#host.actors.get(checkpoint.actorId, checkpoint.generation);
				if (!actor) {
					acks.push(checkpoint);
					continue;
				}
				this.#host.actors.stop(actor, stopReason(actor)).then(() => this.#ack([checkpoint]));
			}
		}
		if (acks.length > 0) this.#ack(acks);
	}

	/** Writes acknowledgements that could not be written while disconnected. */
	flush(): void {
		if (this.#unsentAcks.size === 0) return;
		const acks = [...this.#unsentAcks.values()];
		if (this.#host.send({ tag: "ToServerAckCommands", val: { lastCommandCheckpoints: acks } }))
			this.#unsentAcks.clear();
	}

	/** Forgets unsent acknowledgements (the engine gave the runner a new id and dropped its commands). */
	resetAcks(): void {
		this.#unsentAcks.clear();
	}

	/** Remembers the generation of an actor that left the registry, so that a replay of its start is ignored. */
	removed(actor: ActorRecord): void {
		const { actorId, generation } = actor;
		const known = this.#tombstones.get(actorId);
		this.#tombstones.delete(actorId);
		this.#tombstones.set(actorId, known === undefined ? generation : Math.max(known, generation));
		if (this.#tombstones.size > this.#host.maxTombstones) {
			const oldest = this.#tombstones.keys().next().value;
			if (oldest !== undefined) this.#tombstones.delete(oldest);
		}
	}

	#isNewStart(checkpoint: ActorCheckpoint): boolean {
		const { actorId, generation } = checkpoint;
		const hosted = this.#host.actors.get(actorId);
		if (hosted && generation <= hosted.generation) return false;
		const newest = this.#tombstones.get(actorId);
		return newest === undefined || generation > newest;
	}

	#intern(name: string): string {
		const known = this.#names.get(name);
		if (known !== undefined) return known;
		if (this.#names.size < MAX_NAMES) this.#names.set(name, name);
		return name;
	}

	#start(
		checkpoint: ActorCheckpoint,
		command: Extract<CommandWrapper["inner"], { tag: "CommandStartActor" }>["val"],
	): void {
		const { actorId, generation } = checkpoint;
		this.#tombstones.delete(actorId);
		const previous = this.#host.actors.get(actorId);
		if (previous) {
			this.#host.log.warn(
				{ actorId, previous: previous.generation, generation },
				"newer generation replaces a hosted actor",
			);
			void this.#host.actors.stop(previous, "engine");
		}
		const { config } = command;
		const actor = this.#host.actors.start(actorId, generation, {
			name: this.#intern(config.name),
			key: config.key,
			createTs: config.createTs,
			input: config.input === null ? null : new Uint8Array(config.input),
		});
		this.#host.onRegistered?.(actor, command);
	}

	#ack(checkpoints: ActorCheckpoint[]): void {
		for (const checkpoint of checkpoints) {
			const key = `${checkpoint.actorId}:${checkpoint.generation}`;
			const known = this.#unsentAcks.get(key);
			if (!known || known.index < checkpoint.index) this.#unsentAcks.set(key, checkpoint);
		}
		this.flush();
	}
}

function stopReason(actor: ActorRecord): StopReason {
	if (actor.intent === "sleep") return "sleep";
	if (actor.intent === "destroy") return "destroy";
	return "engine";
}
