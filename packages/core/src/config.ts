/**
 * Runner options, their defaults, and their validation.
 *
 * @module
 */
import { DEFAULT_RECONNECT, type ReconnectPolicy, type ResolvedReconnectPolicy } from "./backoff.ts";
import { systemClock } from "./clock.ts";
import type { RunnerError } from "./errors.ts";
import { InvalidArgumentError } from "./errors.ts";
import { silentLogger } from "./log.ts";
import type { Logger, Platform, WebSocketFactory, WebSocketLike } from "./platform.ts";
import type { SignalOptions } from "./signals.ts";
import type { TunnelOptions } from "./tunnel/options.ts";
import type {
	ActorStartContext,
	ActorStopContext,
	ConnectedInfo,
	DisconnectedInfo,
	ErrorContext,
} from "./types.ts";
import {
	checkHibernation,
	checkName,
	checkNumber,
	fail,
	isSubprotocolToken,
	optionalNumber,
	parseEndpoint,
	TOKEN_CHARS_MESSAGE,
} from "./validate.ts";

/** A token, or a function that returns one; a function is called again before every reconnect. */
export type TokenSource = string | (() => string | Promise<string>);

/** Buffers and their bounds. */
export interface RunnerLimits {
	/** KV requests waiting for an answer, across all actors. @default 10000 */
	maxPendingKvRequests?: number;
	/** Unacknowledged events kept for resending, across all actors. @default 100000 */
	maxEventHistory?: number;
	/** Events per `ToServerEvents` frame when resending after a reconnect. @default 128 */
	eventResendChunk?: number;
	/**
	 * Actors that have left this runner whose newest generation is remembered, so that a replayed start of it is
	 * ignored (hosted actors need no entry). @default 10000
	 */
	maxCommandTombstones?: number;
	/**
	 * Bytes the engine socket may have queued before tunnel replies wait in the runner's bounded reply buffer instead
	 * (backpressure when the engine reads slowly). @default 16777216
	 */
	maxSocketBufferBytes?: number;
}

/** Everything `new Runner()` accepts. Callbacks take one parameter object. */
export interface RunnerOptions extends TunnelOptions {
	/** Engine base URL, `http(s)://` or `ws(s)://`. A path or query in it is kept. */
	endpoint: string;
	/** Admin token, sent as the `rivet_token.<token>` subprotocol. Never logged. */
	token?: TokenSource;
	/** Namespace name. @default "default" */
	namespace?: string;
	/** Runner pool name; the engine places actors whose `runner_name_selector` equals it. */
	runnerName: string;
	/** Build version; the engine allocates only to the highest version connected. @default 1 */
	version?: number;
	/** Most actors this runner hosts at once (1 to 2^32−1). */
	totalSlots: number;
	/** Actor names (and their metadata) registered in the namespace on every connect. @default {} */
	prepopulateActorNames?: Record<string, { metadata?: Record<string, unknown> }>;
	/** Runner metadata (JSON) shown by the engine. @default none */
	metadata?: Record<string, unknown>;
	/** Stable identity across reconnects of this process. @default a random UUID */
	runnerKey?: string;
	/** Host ports. Adapters fill these in. @default the global WebSocket, the system clock and a silent logger */
	platform?: Partial<Platform>;
	/** Logger; overrides `platform.logger`. */
	logger?: Logger;
	/** Reconnect backoff. @default 1 s doubling to 30 s, +0–25 % jitter */
	reconnect?: ReconnectPolicy;
	/** Longest wait from socket open to the engine's `ToClientInit`. @default 10000 */
	handshakeTimeoutMs?: number;
	/** Reconnect when nothing (not even a ping) arrives from the engine for this long. @default 30000 */
	livenessTimeoutMs?: number;
	/** Stop all actors locally when disconnected this long. @default twice the engine's runner-lost threshold */
	runnerLostTimeoutMs?: number;
	/** Longest `onActorStart` may take. @default 30000 */
	actorStartTimeoutMs?: number;
	/** Longest `onActorStop` may take before the stop is reported anyway. @default 60000 */
	actorStopTimeoutMs?: number;
	/** Deadline of each KV request, including waiting for a reconnect. @default 30000 */
	kvTimeoutMs?: number;
	/** Default deadline of a drain. @default 30000 */
	drainDeadlineMs?: number;
	/** What to do when the engine evicts this runner (`ws.eviction`). @default "shutdown" */
	onEviction?: "shutdown" | "reconnect";
	/** Buffer bounds. */
	limits?: RunnerLimits;
	/**
	 * Process signals (when the platform provides them, as the adapters do): the first SIGTERM/SIGINT drains, a second
	 * stops at once; the listeners are removed after the shutdown. `false` leaves signals alone. @default true
	 */
	signals?: boolean | SignalOptions;
	/** Initialises an actor. The actor is registered before this runs; reject or throw to fail the start. */
	onActorStart(context: ActorStartContext): void | Promise<void>;
	/** Called exactly once for every actor that began starting, whatever stops it. */
	onActorStop?(context: ActorStopContext): void | Promise<void>;
	/** Called after every successful handshake (first connect and every reconnect). */
	onConnected?(info: ConnectedInfo): void;
	/** Called whenever the engine connection closes. */
	onDisconnected?(info: DisconnectedInfo): void;
	/** Called about once a second during a drain with the number of actors still running. */
	onDrainProgress?(progress: { remaining: number; elapsedMs: number }): void;
	/** Called last, once, when the runner has shut down. */
	onShutdown?(): void | Promise<void>;
	/** Receives failures that have no caller to throw to. Never throws back into the runner. */
	onError?(error: RunnerError, context: ErrorContext): void;
}

/** Options after defaults and validation. */
export interface ResolvedConfig {
	readonly options: RunnerOptions;
	readonly endpoint: URL;
	readonly namespace: string;
	readonly runnerName: string;
	readonly runnerKey: string;
	readonly version: number;
	readonly totalSlots: number;
	readonly platform: Required<Omit<Platform, "signals">> & Pick<Platform, "signals">;
	readonly reconnect: ResolvedReconnectPolicy;
	readonly handshakeTimeoutMs: number;
	readonly livenessTimeoutMs: number;
	readonly runnerLostTimeoutMs: number | undefined;
	readonly actorStartTimeoutMs: number;
	readonly actorStopTimeoutMs: number;
	readonly kvTimeoutMs: number;
	readonly drainDeadlineMs: number;
	readonly limits: Required<RunnerLimits>;
}

const U32_MAX = 0xffff_ffff;

function defaultWebSocket(): WebSocketFactory {
	const Ctor = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike })
		.WebSocket;
	return (url, protocols) => {
		if (!Ctor) {
			throw new InvalidArgumentError(
				"platform.webSocket",
				"this runtime has no global WebSocket; use an adapter package (e.g. @x/runner-node) or pass a factory",
				"INVALID_CONFIG",
			);
		}
		return new Ctor(url, protocols);
	};
}

function defaultUUID(): string {
	return globalThis.crypto.randomUUID();
}

/** Validates `options` and fills in every default. Throws {@link InvalidArgumentError} naming the bad option. */
export function resolveConfig(options: RunnerOptions): ResolvedConfig {
	if (typeof options !== "object" || options === null) fail("options", "must be an object");
	if (typeof options.onActorStart !== "function") fail("onActorStart", "must be a function");
	const token = options.token;
	if (token !== undefined && typeof token !== "function") {
		if (typeof token !== "string" || token.length === 0)
			fail("token", "must be a non-empty string or a function returning one");
		if (!isSubprotocolToken(token)) fail("token", TOKEN_CHARS_MESSAGE);
	}
	for (const name of [
		"onActorStop",
		"onConnected",
		"onDisconnected",
		"onShutdown",
		"onDrainProgress",
		"onError",
		"fetch",
		"websocket",
		"canHibernate",
	] as const) {
		const value = (options as unknown as Record<string, unknown>)[name];
		if (value !== undefined && typeof value !== "function") fail(name, "must be a function");
	}
	if (
		options.onEviction !== undefined &&
		options.onEviction !== "shutdown" &&
		options.onEviction !== "reconnect"
	) {
		fail("onEviction", `must be "shutdown" or "reconnect"`);
	}
	if (
		options.signals !== undefined &&
		typeof options.signals !== "boolean" &&
		(typeof options.signals !== "object" || options.signals === null)
	) {
		fail("signals", "must be a boolean or an object of signal options");
	}
	checkHibernation(options.hibernation);
	for (const name of ["maxResponseBodyBytes", "maxBufferedReplyBytes", "maxReplyAgeMs"] as const) {
		if (options[name] !== undefined) checkNumber(name, options[name], 1, 2 ** 40);
	}
	const platform = options.platform ?? {};
	const reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect };
	checkNumber("reconnect.initialDelayMs", reconnect.initialDelayMs, 0, 3_600_000);
	checkNumber("reconnect.maxDelayMs", reconnect.maxDelayMs, reconnect.initialDelayMs, 3_600_000);
	checkNumber("reconnect.multiplier", reconnect.multiplier, 1, 100, false);
	checkNumber("reconnect.jitter", reconnect.jitter, 0, 10, false);
	const limits = options.limits ?? {};
	const HOUR = 3_600_000;
	const logger = options.logger ?? platform.logger ?? silentLogger;
	return {
		options,
		endpoint: parseEndpoint(options.endpoint),
		namespace: options.namespace === undefined ? "default" : checkName("namespace", options.namespace),
		runnerName: checkName("runnerName", options.runnerName),
		runnerKey:
			options.runnerKey === undefined
				? (platform.randomUUID ?? defaultUUID)()
				: checkName("runnerKey", options.runnerKey),
		version: optionalNumber("version", options.version, 1, 0, U32_MAX),
		totalSlots: checkNumber("totalSlots", options.totalSlots, 1, U32_MAX),
		platform: {
			webSocket: platform.webSocket ?? defaultWebSocket(),
			clock: platform.clock ?? systemClock,
			logger,
			random: platform.random ?? Math.random,
			randomUUID: platform.randomUUID ?? defaultUUID,
			...(platform.signals ? { signals: platform.signals } : {}),
		},
		reconnect,
		handshakeTimeoutMs: optionalNumber("handshakeTimeoutMs", options.handshakeTimeoutMs, 10_000, 1, HOUR),
		livenessTimeoutMs: optionalNumber("livenessTimeoutMs", options.livenessTimeoutMs, 30_000, 1, HOUR),
		runnerLostTimeoutMs:
			options.runnerLostTimeoutMs === undefined
				? undefined
				: checkNumber("runnerLostTimeoutMs", options.runnerLostTimeoutMs, 0, 24 * HOUR),
		actorStartTimeoutMs: optionalNumber(
			"actorStartTimeoutMs",
			options.actorStartTimeoutMs,
			30_000,
			1,
			24 * HOUR,
		),
		actorStopTimeoutMs: optionalNumber(
			"actorStopTimeoutMs",
			options.actorStopTimeoutMs,
			60_000,
			1,
			24 * HOUR,
		),
		kvTimeoutMs: optionalNumber("kvTimeoutMs", options.kvTimeoutMs, 30_000, 1, 24 * HOUR),
		drainDeadlineMs: optionalNumber("drainDeadlineMs", options.drainDeadlineMs, 30_000, 0, 24 * HOUR),
		limits: {
			maxPendingKvRequests: optionalNumber(
				"limits.maxPendingKvRequests",
				limits.maxPendingKvRequests,
				10_000,
				1,
				1e9,
			),
			maxEventHistory: optionalNumber("limits.maxEventHistory", limits.maxEventHistory, 100_000, 16, 1e9),
			eventResendChunk: optionalNumber("limits.eventResendChunk", limits.eventResendChunk, 128, 1, 100_000),
			maxCommandTombstones: optionalNumber(
				"limits.maxCommandTombstones",
				limits.maxCommandTombstones,
				10_000,
				16,
				1e9,
			),
			maxSocketBufferBytes: optionalNumber(
				"limits.maxSocketBufferBytes",
				limits.maxSocketBufferBytes,
				16 * 1024 * 1024,
				1024,
				2 ** 40,
			),
		},
	};
}
