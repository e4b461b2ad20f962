/**
 * Builds the parts of a runner (KV, event log, tunnel, actors, commands) and connects them through narrow
 * interfaces, so that no part reaches into another.
 *
 * @module
 */
import type { ToServer } from "@rivetkit/engine-runner-protocol";
import type { ActorRecord } from "./actor.ts";
import { Actors } from "./actors.ts";
import { CommandHandler } from "./commands.ts";
import type { ResolvedConfig } from "./config.ts";
import { ActorNotFoundError, type RunnerError, RunnerShutdownError } from "./errors.ts";
import { EventLog } from "./events.ts";
import { KvClient } from "./kv.ts";
import type { Logger } from "./platform.ts";
import type { Runner } from "./runner.ts";
import { Tunnel } from "./tunnel/tunnel.ts";
import type { ActorConfig, ActorStartContext, ActorState, ErrorContext } from "./types.ts";

/**
 * Passed to `onActorStart`. `state` and `signal` are live getters on the prototype (so every context shares one
 * shape, and the actor's abort signal is only made when read); the rest are plain properties.
 */
class StartContext implements ActorStartContext {
	readonly actorId: string;
	readonly generation: number;
	readonly config: ActorConfig;
	readonly runner: Runner;
	readonly #actor: ActorRecord;

	constructor(actor: ActorRecord, runner: Runner) {
		this.#actor = actor;
		this.actorId = actor.actorId;
		this.generation = actor.generation;
		this.config = actor.config;
		this.runner = runner;
	}

	get state(): ActorState {
		return this.#actor.state;
	}

	get signal(): AbortSignal {
		return this.#actor.signal;
	}
}

/** The parts of a runner. */
export interface RunnerParts {
	readonly kv: KvClient;
	readonly events: EventLog;
	readonly tunnel: Tunnel;
	readonly actors: Actors;
	readonly commands: CommandHandler;
}

/** What the parts need from the runner facade. */
export interface WiringHost {
	readonly runner: Runner;
	/** Writes to the engine socket; false when not connected. */
	send(message: ToServer): boolean;
	/** Whether the engine connection is up. */
	ready(): boolean;
	/** Whether the engine socket holds too many unsent bytes. */
	backpressured(): boolean;
	/** Whether a shutdown has begun. */
	shuttingDown(): boolean;
	/** Whether the runner told the engine it is draining. */
	draining(): boolean;
	report(error: RunnerError, context: ErrorContext): void;
}

/** Creates and connects the parts. */
export function wireRunner(config: ResolvedConfig, log: Logger, host: WiringHost): RunnerParts {
	const { clock } = config.platform;
	const { options } = config;
	const send = host.send;
	const kv: KvClient = new KvClient({
		send,
		clock,
		timeoutMs: config.kvTimeoutMs,
		maxPending: config.limits.maxPendingKvRequests,
		assertActor: (actorId) => {
			if (actors.get(actorId)) return;
			throw host.shuttingDown() ? new RunnerShutdownError() : new ActorNotFoundError(actorId);
		},
	});
	const events = new EventLog({
		send,
		barrier: (actorId) => kv.barrier(actorId),
		hosted: (actorId, generation) => actors.find(actorId, generation),
		allHosted: () => actors.all(),
		onError: (error, actorId) => host.report(error, { stage: "event", actorId }),
		maxHistory: config.limits.maxEventHistory,
		resendChunk: config.limits.eventResendChunk,
	});
	const tunnel = new Tunnel({
		config,
		runner: host.runner,
		log,
		send,
		ready: host.ready,
		backpressured: host.backpressured,
		getActor: (actorId) => actors.get(actorId),
		onError: (error, stage, actorId) => host.report(error, actorId ? { stage, actorId } : { stage }),
	});
	const actors: Actors = new Actors({
		clock,
		log,
		startTimeoutMs: config.actorStartTimeoutMs,
		stopTimeoutMs: config.actorStopTimeoutMs,
		startContext: (actor) => new StartContext(actor, host.runner),
		stopContext: (actor, reason) => ({
			actorId: actor.actorId,
			generation: actor.generation,
			reason,
			runner: host.runner,
		}),
		onActorStart: (context) => options.onActorStart(context),
		...(options.onActorStop ? { onActorStop: (context) => options.onActorStop!(context) } : {}),
		recordEvent: (actor, event) => void events.record(actor, event),
		closeEvents: (actor) => events.close(actor),
		onRemoved: (actor) => commands.removed(actor),
		isDraining: host.draining,
		onError: (error, stage, actorId) => host.report(error, { stage, actorId }),
		hooks: tunnel.lifecycleHooks(),
	});
	const commands = new CommandHandler({
		actors,
		log,
		send,
		maxTombstones: config.limits.maxCommandTombstones,
		onRegistered: (actor, command) => tunnel.registerActor(actor, command.hibernatingRequests),
	});
	return { kv, events, tunnel, actors, commands };
}
