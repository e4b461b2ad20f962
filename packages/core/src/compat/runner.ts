/**
 * A drop-in `Runner` for code written against `@rivetkit/engine-runner@2.2.1`: same configuration (positional
 * callbacks, `hibernatableWebSocket.canHibernate`), same methods (`restoreHibernatingRequests`,
 * `sendHibernatableWebSocketMessageAck`, …). Moving to it is an import change; underneath is the core runner, with
 * its fixes (no crash on a failed start or bad frame, prompt command acks, replies kept while disconnected, …).
 *
 * @module
 */
import { fromHex, toHex } from "../bytes.ts";
import { ActorNotFoundError, InvalidArgumentError, RunnerError } from "../errors.ts";
import type { HibernationStore, StoredSocket } from "../hibernation/store.ts";
import type { KvEntry } from "../kv.ts";
import type { Platform } from "../platform.ts";
import { Runner as CoreRunner } from "../runner.ts";
import type { ActorInfo } from "../types.ts";
import type { HibernatingWebSocketMetadata, KvListOptions, RunnerConfig } from "./config.ts";

/** Thresholds as the reference reports them (`getProtocolMetadata()`), in bigint milliseconds. */
export interface ProtocolMetadata {
	runnerLostThreshold: bigint;
	actorStopThreshold: bigint;
	serverlessDrainGracePeriod: bigint | null;
}

function buffer(hex: string): ArrayBuffer {
	return fromHex(hex).buffer as ArrayBuffer;
}

/** The reference runner's API on top of the core runner. */
export class Runner {
	/** Set after the first handshake. */
	runnerId: string | undefined;
	readonly #config: RunnerConfig;
	readonly #core: CoreRunner;
	readonly #restores = new Map<string, StoredSocket[]>();
	readonly #platform: Partial<Platform> | undefined;

	/** Takes the reference's `RunnerConfig` unchanged; `platform` is for adapters. */
	constructor(config: RunnerConfig, platform?: Partial<Platform>) {
		this.#config = config;
		this.#platform = platform;
		const store: HibernationStore = {
			load: async (actorId) => {
				const entries = this.#restores.get(actorId) ?? [];
				this.#restores.delete(actorId);
				return entries;
			},
			save: async () => {},
			updateIndex: async () => {},
			remove: async () => {},
		};
		const endpoint = config.pegboardEndpoint ?? config.endpoint;
		this.#core = new CoreRunner({
			endpoint,
			...(config.token === undefined ? {} : { token: config.token }),
			namespace: config.namespace,
			runnerName: config.runnerName,
			version: config.version,
			totalSlots: config.totalSlots,
			prepopulateActorNames: config.prepopulateActorNames,
			...(config.metadata === undefined ? {} : { metadata: config.metadata }),
			...(config.logger ? { logger: config.logger } : {}),
			...(platform ? { platform } : {}),
			signals: config.noAutoShutdown !== true,
			hibernation: { store, commit: "manual" },
			onActorStart: ({ actorId, generation, config: actor }) =>
				config.onActorStart(actorId, generation, {
					name: actor.name,
					key: actor.key,
					createTs: actor.createTs,
					input: actor.input,
				}),
			onActorStop: ({ actorId, generation }) => config.onActorStop(actorId, generation),
			onConnected: ({ runnerId }) => {
				this.runnerId = runnerId;
				config.onConnected();
			},
			onDisconnected: ({ code, reason }) => config.onDisconnected(code, reason),
			onShutdown: () => config.onShutdown(),
			fetch: (request, ctx) =>
				config.fetch(this, ctx.actorId, buffer(ctx.gatewayId), buffer(ctx.requestId), request),
			canHibernate: (request, ctx) =>
				config.hibernatableWebSocket.canHibernate(
					ctx.actorId,
					buffer(ctx.gatewayId),
					buffer(ctx.requestId),
					request,
				),
			websocket: (socket, ctx) => {
				const url = new URL(ctx.request.url);
				const headers: Record<string, string> = {};
				ctx.request.headers.forEach((value, name) => {
					headers[name] = value;
				});
				return config.websocket(
					this,
					ctx.actorId,
					socket,
					buffer(ctx.gatewayId),
					buffer(ctx.requestId),
					ctx.request,
					url.pathname + url.search,
					headers,
					ctx.hibernatable,
					ctx.restored,
				);
			},
		});
	}

	/** The configuration given to the constructor. */
	get config(): RunnerConfig {
		return this.#config;
	}

	/** Hosted actors by id. */
	get actors(): ReadonlyMap<string, ActorInfo> {
		return this.#core.actors;
	}

	/** Starts connecting and resolves at once, as the reference does; `onConnected` signals readiness. */
	async start(): Promise<void> {
		this.#core.start().catch(() => {});
	}

	/** Graceful (`false`) or immediate (`true`) shutdown; `exit` ends the process afterwards. */
	async shutdown(immediate: boolean, exit = false): Promise<void> {
		await this.#core.shutdown({ mode: immediate ? "immediate" : "drain" });
		if (exit) this.#platform?.signals?.exit(0);
	}

	/** Asks the engine to put the actor to sleep. */
	sleepActor(actorId: string, generation?: number): void {
		this.#core.sleepActor(actorId, generation);
	}

	/** Asks the engine to stop the actor. */
	async stopActor(actorId: string, generation?: number): Promise<void> {
		this.#core.stopActor(actorId, generation);
	}

	/** Asks the engine to destroy the actor. */
	destroyActor(actorId: string, generation?: number): void {
		this.#core.destroyActor(actorId, generation);
	}

	/** Stops the actor locally. */
	async forceStopActor(actorId: string, generation?: number): Promise<void> {
		await this.#core.forceStopActor(actorId, generation);
	}

	/** The hosted actor, if any. */
	getActor(actorId: string, generation?: number): ActorInfo | undefined {
		return this.#core.getActor(actorId, generation);
	}

	/** Whether the actor is hosted. */
	hasActor(actorId: string, generation?: number): boolean {
		return this.#core.hasActor(actorId, generation);
	}

	/** Waits for the actor's start. */
	getAndWaitForActor(actorId: string, generation?: number): Promise<ActorInfo> {
		return this.#core.getAndWaitForActor(actorId, generation);
	}

	/** KV get, in request order, null where missing. */
	kvGet(actorId: string, keys: Uint8Array[]): Promise<(Uint8Array | null)[]> {
		return this.#core.kvGet(actorId, keys);
	}

	/** KV list of every entry. */
	kvListAll(actorId: string, options?: KvListOptions): Promise<KvEntry[]> {
		return this.#core.kvListAll(actorId, options);
	}

	/** KV list of a range. */
	kvListRange(
		actorId: string,
		start: Uint8Array,
		end: Uint8Array,
		exclusive?: boolean,
		options?: KvListOptions,
	): Promise<KvEntry[]> {
		return this.#core.kvListRange(actorId, start, end, exclusive, options);
	}

	/** KV list by prefix. */
	kvListPrefix(actorId: string, prefix: Uint8Array, options?: KvListOptions): Promise<KvEntry[]> {
		return this.#core.kvListPrefix(actorId, prefix, options);
	}

	/** KV put. */
	kvPut(actorId: string, entries: KvEntry[]): Promise<void> {
		return this.#core.kvPut(actorId, entries);
	}

	/** KV delete. */
	kvDelete(actorId: string, keys: Uint8Array[]): Promise<void> {
		return this.#core.kvDelete(actorId, keys);
	}

	/** KV delete of a range. */
	kvDeleteRange(actorId: string, start: Uint8Array, end: Uint8Array): Promise<void> {
		return this.#core.kvDeleteRange(actorId, start, end);
	}

	/** KV drop. */
	kvDrop(actorId: string): Promise<void> {
		return this.#core.kvDrop(actorId);
	}

	/** Sets (epoch ms) or clears the alarm. */
	setAlarm(actorId: string, alarmTs: number | null, generation?: number): void {
		this.#core.setAlarm(actorId, alarmTs, generation);
	}

	/** Clears the alarm. */
	clearAlarm(actorId: string, generation?: number): void {
		this.#core.clearAlarm(actorId, generation);
	}

	/** Acknowledges an incoming message index of a hibernatable socket. */
	sendHibernatableWebSocketMessageAck(gatewayId: ArrayBuffer, requestId: ArrayBuffer, index: number): void {
		if (!Number.isInteger(index) || index < 0 || index > 0xffff) {
			throw new InvalidArgumentError("index", `must be an integer from 0 to 65535, got ${String(index)}`);
		}
		this.#core.ackWebSocketMessage(toHex(gatewayId), toHex(requestId), index);
	}

	/**
	 * Hands over the metadata the app persisted for the actor's hibernatable sockets; call it from `onActorStart`.
	 * The sockets are restored when `onActorStart` resolves.
	 */
	async restoreHibernatingRequests(
		actorId: string,
		metaEntries: HibernatingWebSocketMetadata[],
	): Promise<void> {
		if (!this.#core.hasActor(actorId)) throw new ActorNotFoundError(actorId);
		if (this.#restores.has(actorId))
			throw new RunnerError("HIBERNATION_ERROR", `actor ${actorId} was already restored`);
		this.#restores.set(
			actorId,
			metaEntries.map((meta) => ({
				gatewayId: toHex(meta.gatewayId),
				requestId: toHex(meta.requestId),
				path: meta.path,
				headers: meta.headers,
				index: meta.serverMessageIndex,
			})),
		);
	}

	/** The serverless init packet (base64), or undefined before the first handshake. */
	getServerlessInitPacket(): string | undefined {
		return this.#core.getServerlessInitPacket();
	}

	/** Thresholds from the last handshake. */
	getProtocolMetadata(): ProtocolMetadata | undefined {
		const t = this.#core.thresholds;
		if (!t) return undefined;
		return {
			runnerLostThreshold: BigInt(t.runnerLostThreshold),
			actorStopThreshold: BigInt(t.actorStopThreshold),
			serverlessDrainGracePeriod:
				t.serverlessDrainGracePeriod === null ? null : BigInt(t.serverlessDrainGracePeriod),
		};
	}

	/** A description without secrets. */
	toString(): string {
		return this.#core.toString();
	}
}

/** Thrown into KV calls once the runner has shut down, as in the reference. */
export { RunnerShutdownError } from "../errors.ts";

/** Hex string of an id, as the reference's `idToStr`. */
export function idToStr(id: ArrayBuffer): string {
	return toHex(id);
}
