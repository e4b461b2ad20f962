/**
 * Public types shared by the runner's callbacks.
 *
 * @module
 */
import type { Runner } from "./runner.ts";

/** The configuration the engine sends with each start of an actor. */
export interface ActorConfig {
	/** Actor name (its type), as given when the actor was created. */
	readonly name: string;
	/** Actor key, or null when created without one. */
	readonly key: string | null;
	/** When the engine issued this start (epoch ms). Not the creation time: it changes on every generation. */
	readonly createTs: bigint;
	/** The create input, decoded from base64; sent again on every start. */
	readonly input: Uint8Array | null;
}

/** Lifecycle states of an actor on this runner: starting → running → stopping → stopped. */
export type ActorState = "starting" | "running" | "stopping" | "stopped";

/** Why an actor is being stopped. */
export type StopReason =
	/** The actor asked to sleep (`sleepActor`) and the engine stopped it. */
	| "sleep"
	/** The actor asked to stop or be destroyed (`stopActor`, `destroyActor`) and the engine stopped it. */
	| "destroy"
	/** The engine stopped it without a request from the actor (drain, reallocation, destroy through the API). */
	| "engine"
	/** `onActorStart` threw, rejected or timed out. */
	| "start-failed"
	/** The runner shut down (drain deadline passed, or an immediate shutdown). */
	| "shutdown"
	/** The engine connection stayed down past the lost threshold, or the engine gave this runner a new id. */
	| "lost"
	/** `forceStopActor` was called. */
	| "forced";

/** A read-only view of an actor hosted by this runner. */
export interface ActorInfo {
	/** Actor id (30 base36 characters). */
	readonly actorId: string;
	/** Allocation generation; grows by one on every re-allocation (wake, crash restart, reschedule). */
	readonly generation: number;
	/** Configuration from the start command. */
	readonly config: ActorConfig;
	/** Current lifecycle state. */
	readonly state: ActorState;
	/** Aborted when the actor begins to stop. */
	readonly signal: AbortSignal;
}

/** Passed to `onActorStart`. */
export interface ActorStartContext extends ActorInfo {
	/** The runner hosting the actor. */
	readonly runner: Runner;
}

/** Passed to `onActorStop`. */
export interface ActorStopContext {
	/** Actor id. */
	readonly actorId: string;
	/** Generation being stopped. */
	readonly generation: number;
	/** Why it stops. */
	readonly reason: StopReason;
	/** The runner hosting the actor; KV still works for the actor while this callback runs. */
	readonly runner: Runner;
}

/** Passed to `onConnected` after every successful handshake. */
export interface ConnectedInfo {
	/** Id the engine gave this runner. */
	readonly runnerId: string;
	/** Whether this is a reconnect of an earlier connection. */
	readonly reconnected: boolean;
	/** Thresholds the engine announced. */
	readonly metadata: EngineThresholds;
}

/** Thresholds from the engine's `ToClientInit`, in milliseconds. */
export interface EngineThresholds {
	/** How long the engine waits before it declares a silent runner lost. */
	readonly runnerLostThreshold: number;
	/** How long the engine waits for an actor to report stopped. */
	readonly actorStopThreshold: number;
	/** Drain grace period of a serverless runner, or null. */
	readonly serverlessDrainGracePeriod: number | null;
}

/** Passed to `onDisconnected` whenever the engine connection closes. */
export interface DisconnectedInfo {
	/** WebSocket close code (1006 when the socket failed without a close frame). */
	readonly code: number;
	/** Close reason as sent by the engine, e.g. `ws.eviction#…`. */
	readonly reason: string;
	/** Whether the runner will try to reconnect. */
	readonly willReconnect: boolean;
}

/** Where a background failure happened. */
export type ErrorStage =
	| "connection"
	| "protocol"
	| "actor-start"
	| "actor-stop"
	| "command"
	| "event"
	| "kv"
	| "tunnel"
	| "websocket"
	| "hibernation"
	| "shutdown"
	| "callback";

/** Context passed to `onError`. */
export interface ErrorContext {
	/** Where the failure happened. */
	readonly stage: ErrorStage;
	/** Actor concerned, when there is one. */
	readonly actorId?: string;
}

/** Options of `shutdown()`. */
export interface ShutdownOptions {
	/**
	 * `"drain"` tells the engine the runner is stopping, lets it stop every actor, and waits up to `deadlineMs`;
	 * `"immediate"` stops the actors locally and closes at once. @default "drain"
	 */
	mode?: "drain" | "immediate";
	/** Longest a drain may take before the remaining actors are stopped locally. @default the runner's `drainDeadlineMs` */
	deadlineMs?: number;
}
