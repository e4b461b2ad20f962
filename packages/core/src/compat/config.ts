/**
 * The configuration of `@rivetkit/engine-runner@2.2.1`, accepted unchanged by the compat `Runner`.
 *
 * @module
 */
import type { Logger } from "../platform.ts";
import type { TunnelWebSocket } from "../tunnel/socket.ts";
import type { Runner } from "./runner.ts";

/** A JSON value (metadata). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Actor configuration as the reference runner passes it to `onActorStart`. */
export interface ActorConfig {
	name: string;
	key: string | null;
	createTs: bigint;
	input: Uint8Array | null;
}

/** What a reference runner persists per hibernatable socket, handed back to `restoreHibernatingRequests`. */
export interface HibernatingWebSocketMetadata {
	gatewayId: ArrayBuffer;
	requestId: ArrayBuffer;
	/** Outgoing counter (the reference and RivetKit always store 0). */
	clientMessageIndex: number;
	/** Last incoming message index processed (`event.rivetMessageIndex`). */
	serverMessageIndex: number;
	path: string;
	headers: Record<string, string>;
}

/** Options of the list calls, as in the reference. */
export interface KvListOptions {
	reverse?: boolean;
	limit?: number;
}

/** The reference runner's configuration. */
export interface RunnerConfig {
	logger?: Logger;
	version: number;
	endpoint: string;
	token?: string;
	/** Overrides `endpoint` for the runner socket. */
	pegboardEndpoint?: string;
	/** Unused, as in the reference. */
	pegboardRelayEndpoint?: string;
	namespace: string;
	totalSlots: number;
	runnerName: string;
	prepopulateActorNames: Record<string, { metadata: Record<string, JsonValue> }>;
	metadata?: Record<string, JsonValue>;
	onConnected: () => void;
	onDisconnected: (code: number, reason: string) => void;
	onShutdown: () => void;
	fetch: (
		runner: Runner,
		actorId: string,
		gatewayId: ArrayBuffer,
		requestId: ArrayBuffer,
		request: Request,
	) => Promise<Response>;
	websocket: (
		runner: Runner,
		actorId: string,
		ws: TunnelWebSocket,
		gatewayId: ArrayBuffer,
		requestId: ArrayBuffer,
		request: Request,
		path: string,
		headers: Record<string, string>,
		isHibernatable: boolean,
		isRestoringHibernatable: boolean,
	) => Promise<void>;
	hibernatableWebSocket: {
		canHibernate: (
			actorId: string,
			gatewayId: ArrayBuffer,
			requestId: ArrayBuffer,
			request: Request,
		) => boolean;
	};
	onActorStart: (actorId: string, generation: number, config: ActorConfig) => Promise<void>;
	onActorStop: (actorId: string, generation: number) => Promise<void>;
	/** When false (the default), SIGTERM/SIGINT drain the runner (where the platform has signals). */
	noAutoShutdown?: boolean;
	/** Accepted and ignored (a test aid of the reference). */
	debugLatencyMs?: number;
}
