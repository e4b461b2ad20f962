/**
 * The runner's side of one engine session: the init message, what happens after each handshake (resend, flush,
 * runner-id change), routing of incoming messages, disconnects and eviction, and the local runner-lost timer.
 *
 * @module
 */
import type { ToClient, ToClientInit, ToServer } from "@rivetkit/engine-runner-protocol";
import type { ResolvedConfig } from "./config.ts";
import { Connection } from "./connection.ts";
import { ConnectionLostError, type RunnerError, RunnerShutdownError } from "./errors.ts";
import type { Cancel, Logger } from "./platform.ts";
import type { EngineThresholds, ErrorContext } from "./types.ts";
import type { RunnerParts } from "./wiring.ts";

/** What a session needs from the runner facade. */
export interface SessionHost {
	/** Whether a shutdown has begun. */
	shuttingDown(): boolean;
	/** The engine evicted the runner and it should shut down. */
	evicted(): void;
	/** Runs a user callback, reporting what it throws. */
	callback(name: string, fn: () => void): void;
	/** Reports a background failure. */
	report(error: RunnerError, context: ErrorContext): void;
}

/** Connection-level behaviour of a runner. */
export class Session {
	/** The engine socket. */
	readonly connection: Connection;
	/** Id the engine gave this runner, once it has. */
	runnerId: string | undefined;
	/** Thresholds from the last handshake. */
	thresholds: EngineThresholds | undefined;
	readonly #config: ResolvedConfig;
	readonly #log: Logger;
	readonly #parts: RunnerParts;
	readonly #host: SessionHost;
	#lostTimer: Cancel | undefined;
	#firstConnect: { resolve: () => void; reject: (error: unknown) => void } | undefined;

	/** Creates an idle session. */
	constructor(config: ResolvedConfig, log: Logger, parts: RunnerParts, host: SessionHost) {
		this.#config = config;
		this.#log = log;
		this.#parts = parts;
		this.#host = host;
		this.connection = new Connection(
			config,
			{
				init: () => this.#initMessage(),
				onReady: (init, reconnected) => this.#onReady(init, reconnected),
				onMessage: (message) => this.#onMessage(message),
				onClosed: (code, reason, evicted) => this.#onClosed(code, reason, evicted),
				onError: (error) => host.report(error, { stage: "connection" }),
			},
			log,
		);
	}

	/** Starts connecting; resolves after the first handshake. */
	start(): Promise<void> {
		const ready = new Promise<void>((resolve, reject) => {
			this.#firstConnect = { resolve, reject };
		});
		this.connection.start();
		return ready;
	}

	/** Stops the lost timer and fails a pending first connect (shutdown). */
	stop(): void {
		this.#lostTimer?.();
		this.#lostTimer = undefined;
		const first = this.#firstConnect;
		this.#firstConnect = undefined;
		first?.reject(new RunnerShutdownError("runner shut down before it connected"));
		if (!this.connection.ready) this.connection.halt();
	}

	#initMessage(): ToServer {
		const { options } = this.#config;
		const names = options.prepopulateActorNames;
		const prepopulated = names
			? new Map(
					Object.entries(names).map(([name, value]) => [
						name,
						{ metadata: JSON.stringify(value?.metadata ?? {}) },
					]),
				)
			: null;
		return {
			tag: "ToServerInit",
			val: {
				name: this.#config.runnerName,
				version: this.#config.version,
				totalSlots: this.#config.totalSlots,
				prepopulateActorNames: prepopulated,
				metadata: options.metadata === undefined ? null : JSON.stringify(options.metadata),
			},
		};
	}

	#onReady(init: ToClientInit, reconnected: boolean): void {
		const { actors, commands, events, kv, tunnel } = this.#parts;
		this.#lostTimer?.();
		this.#lostTimer = undefined;
		const previous = this.runnerId;
		this.runnerId = init.runnerId;
		const m = init.metadata;
		const thresholds: EngineThresholds = {
			runnerLostThreshold: Number(m.runnerLostThreshold),
			actorStopThreshold: Number(m.actorStopThreshold),
			serverlessDrainGracePeriod:
				m.serverlessDrainGracePeriod === null ? null : Number(m.serverlessDrainGracePeriod),
		};
		this.thresholds = thresholds;
		this.#log.info({ runnerId: init.runnerId, reconnected }, "connected to engine");
		if (previous !== undefined && previous !== init.runnerId) {
			this.#log.warn(
				{ previous, runnerId: init.runnerId },
				"engine gave this runner a new id; its actors were lost",
			);
			events.clear();
			commands.resetAcks();
			void actors.stopAll("lost");
		}
		commands.flush();
		kv.resendAll();
		events.resendAll();
		if (reconnected && previous === init.runnerId) tunnel.reconnected();
		else tunnel.flush();
		const first = this.#firstConnect;
		this.#firstConnect = undefined;
		first?.resolve();
		this.#host.callback("onConnected", () =>
			this.#config.options.onConnected?.({ runnerId: init.runnerId, reconnected, metadata: thresholds }),
		);
	}

	#onMessage(message: ToClient): void {
		const { commands, events, kv, tunnel } = this.#parts;
		switch (message.tag) {
			case "ToClientCommands":
				commands.handle(message.val);
				break;
			case "ToClientAckEvents":
				for (const checkpoint of message.val.lastEventCheckpoints) events.ack(checkpoint);
				break;
			case "ToClientKvResponse":
				if (!kv.handleResponse(message.val))
					this.#log.debug({ requestId: message.val.requestId }, "KV response for no waiting request");
				break;
			case "ToClientTunnelMessage":
				tunnel.handle(message.val);
				break;
			default:
				this.#log.debug({ tag: message.tag }, "ignoring unexpected message");
		}
	}

	#onClosed(code: number, reason: string, evicted: boolean): void {
		const shuttingDown = this.#host.shuttingDown();
		const willReconnect = !shuttingDown && !(evicted && this.#config.options.onEviction !== "reconnect");
		if (evicted && !willReconnect) this.connection.halt();
		this.#host.callback("onDisconnected", () =>
			this.#config.options.onDisconnected?.({ code, reason, willReconnect }),
		);
		if (shuttingDown) return;
		if (evicted) {
			this.#log.warn({ reason }, "evicted by the engine");
			if (willReconnect) void this.#parts.actors.stopAll("lost");
			else this.#host.evicted();
			return;
		}
		this.#armLostTimer();
	}

	#armLostTimer(): void {
		if (this.#lostTimer) return;
		const { actors, kv } = this.#parts;
		const ms = this.#config.runnerLostTimeoutMs ?? 2 * (this.thresholds?.runnerLostThreshold ?? 15_000);
		this.#lostTimer = this.#config.platform.clock.setTimeout(() => {
			this.#lostTimer = undefined;
			this.#log.warn(
				{ afterMs: ms, actors: actors.size },
				"engine unreachable past the lost threshold; stopping actors locally",
			);
			kv.failAll(new ConnectionLostError(`engine unreachable for ${ms} ms`));
			void actors.stopAll("lost");
		}, ms);
	}
}
