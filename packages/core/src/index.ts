/**
 * `@x/runner-core`: a runtime-agnostic runner for the Rivet Engine (runner protocol v7). It takes its WebSocket,
 * clock and logger from an injected {@link Platform}; the adapter packages supply them for Node, Bun and Deno.
 *
 * @module
 */
export type { ActorIntent } from "./actor.ts";
export { backoffDelay, DEFAULT_RECONNECT, type ReconnectPolicy } from "./backoff.ts";
export {
	asUint8Array,
	compareBytes,
	fromBase64,
	fromHex,
	toArrayBuffer,
	toBase64,
	toHex,
	utf8Decode,
	utf8Encode,
} from "./bytes.ts";
export { systemClock } from "./clock.ts";
export type { RunnerLimits, RunnerOptions, TokenSource } from "./config.ts";
export {
	ActorNotFoundError,
	ConnectionLostError,
	describeError,
	InvalidArgumentError,
	isRunnerError,
	KvError,
	type KvLimit,
	KvLimitError,
	ProtocolError,
	RunnerError,
	type RunnerErrorCode,
	RunnerShutdownError,
	TimeoutError,
} from "./errors.ts";
export { type HibernationStore, RESERVED_KV_PREFIX, type StoredSocket } from "./hibernation/store.ts";
export type { KvCallOptions, KvEntry, KvListOptions } from "./kv.ts";
export { KV_LIMITS } from "./kv-limits.ts";
export { type ConsoleLoggerOptions, createConsoleLogger, silentLogger } from "./log.ts";
export type {
	Cancel,
	Clock,
	LogFn,
	Logger,
	LogLevel,
	Platform,
	SocketCloseEvent,
	SocketEventMap,
	SocketMessageEvent,
	WebSocketFactory,
	WebSocketLike,
} from "./platform.ts";
export { Runner, type StartOptions } from "./runner.ts";
export {
	bindSignals,
	type ProcessLike,
	processSignalSource,
	type Shutdownable,
	type SignalOptions,
	type SignalSource,
} from "./signals.ts";
export type {
	GapPolicy,
	HibernationOptions,
	RequestContext,
	TunnelOptions,
	WebSocketContext,
} from "./tunnel/options.ts";
export {
	type ListenerOptions,
	MAX_MESSAGE_BYTES,
	type TunnelCloseEvent,
	type TunnelEvent,
	type TunnelEventMap,
	type TunnelMessageEvent,
	TunnelWebSocket,
} from "./tunnel/socket.ts";
export type { WebSocketMetrics } from "./tunnel/ws-channel.ts";
export type {
	ActorConfig,
	ActorInfo,
	ActorStartContext,
	ActorState,
	ActorStopContext,
	ConnectedInfo,
	DisconnectedInfo,
	EngineThresholds,
	ErrorContext,
	ErrorStage,
	ShutdownOptions,
	StopReason,
} from "./types.ts";
export { type CloseReason, connectUrl, PROTOCOL_VERSION, parseCloseReason } from "./url.ts";
