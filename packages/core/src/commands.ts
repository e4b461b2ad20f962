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

/** What the command handler needs from the runner. */
export interface CommandHost {
	readonly actors: Actors;
	readonly log: Logger;
	/** Writes a message; false when not connected. */
	send(message: ToServer): boolean;
	/** Most remembered (actor → newest started generation) entries. */
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
	/** actorId → newest generation started here; insertion order doubles as LRU order. */
	readonly #started = new Map<string, number>();
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

	#isNewStart(checkpoint: ActorCheckpoint): boolean {
		const newest = this.#started.get(checkpoint.actorId);
		return newest === undefined || checkpoint.generation > newest;
	}

	#start(
		checkpoint: ActorCheckpoint,
		command: Extract<CommandWrapper["inner"], { tag: "CommandStartActor" }>["val"],
	): void {
		const { actorId, generation } = checkpoint;
		this.#started.delete(actorId);
		this.#started.set(actorId, generation);
		if (this.#started.size > this.#host.maxTombstones) {
			const oldest = this.#started.keys().next().value;
			if (oldest !== undefined && !this.#host.actors.get(oldest)) this.#started.delete(oldest);
		}
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
			name: config.name,
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
