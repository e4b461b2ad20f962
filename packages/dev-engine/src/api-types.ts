/** What the engine does when an actor crashes. */
export type CrashPolicy = "restart" | "sleep" | "destroy";

/** An actor as returned by the engine, with camelCase fields. Timestamps are epoch milliseconds or null. */
export interface Actor {
	actorId: string;
	name: string;
	key: string | null;
	namespaceId: string;
	datacenter: string;
	runnerNameSelector: string;
	crashPolicy: CrashPolicy;
	createTs: number;
	startTs: number | null;
	pendingAllocationTs: number | null;
	connectableTs: number | null;
	sleepTs: number | null;
	rescheduleTs: number | null;
	destroyTs: number | null;
	/** Last scheduling/runtime error reported by the engine (e.g. "no_capacity"), if any. */
	error?: unknown;
}

/** Parameters of {@link EngineApi.createActor}. */
export interface CreateActorParams {
	/** Actor name (the actor type). */
	name: string;
	/** Optional key; unique per name. */
	key?: string;
	/** Input passed to the actor; strings are UTF-8 encoded. Sent as base64. */
	input?: Uint8Array | string;
	/** Runner pool (runner config name) that should run the actor. */
	runnerNameSelector: string;
	/** Default: "sleep". */
	crashPolicy?: CrashPolicy;
	/** Default: chosen by the engine. */
	datacenter?: string;
}

/** Parameters of {@link EngineApi.getOrCreateActor}: like {@link CreateActorParams} but `key` is required. */
export interface GetOrCreateActorParams extends CreateActorParams {
	key: string;
}

/** Result of {@link EngineApi.getOrCreateActor}. */
export interface GetOrCreateActorResult {
	actor: Actor;
	/** True when the call created the actor. */
	created: boolean;
}

/** Filters of {@link EngineApi.listActors}. The engine requires `name` unless `actorIds` is given. */
export interface ListActorsParams {
	name?: string;
	/** Requires `name`. */
	key?: string;
	actorIds?: readonly string[];
	/** Default: false. */
	includeDestroyed?: boolean;
	limit?: number;
	cursor?: string;
}

/** One page of actors. `cursor` is null on the last page. */
export interface ListActorsResult {
	actors: Actor[];
	cursor: string | null;
}

/** Body of `PUT /runner-configs/{name}`. Default: a "normal" (self-connecting runners) pool in datacenter "default". */
export interface RunnerConfigBody {
	datacenters: Record<string, Record<string, unknown>>;
}

/** Options of {@link createEngineApi}. */
export interface EngineApiOptions {
	/** Namespace passed as `?namespace=`. Default: "default". */
	namespace?: string;
	/** Sent as `Authorization: Bearer <token>` when set. */
	token?: string;
	/** Per-request timeout in milliseconds. Default: 30000. */
	timeoutMs?: number;
	/** fetch implementation. Default: the global fetch. */
	fetch?: typeof fetch;
}

/** Thin typed client for the engine's public HTTP API (all calls are scoped to one namespace). */
export interface EngineApi {
	/** Base URL, e.g. "http://127.0.0.1:6420" (no trailing slash). */
	readonly endpoint: string;
	/** Namespace of every call. */
	readonly namespace: string;
	/** Health document from `GET /health` (e.g. `{status: "ok", version: "2.3.19"}`). */
	health(): Promise<{ status: string; version: string; runtime?: string }>;
	/** Creates the namespace if it does not exist yet. */
	ensureNamespace(name?: string): Promise<void>;
	/** Creates/updates a runner pool. `body` default: `{datacenters: {default: {normal: {}}}}`. */
	upsertRunnerConfig(
		runnerName: string,
		body?: RunnerConfigBody,
	): Promise<{ endpointConfigChanged: boolean }>;
	/** Creates an actor (`crashPolicy` default "sleep"). */
	createActor(params: CreateActorParams): Promise<Actor>;
	/** Returns the actor with this name+key, creating it if needed. */
	getOrCreateActor(params: GetOrCreateActorParams): Promise<GetOrCreateActorResult>;
	/** One actor by id (destroyed actors included), or null. */
	getActor(actorId: string): Promise<Actor | null>;
	/** One page of actors matching the filters. */
	listActors(params?: ListActorsParams): Promise<ListActorsResult>;
	/** Destroys an actor (idempotent). */
	destroyActor(actorId: string): Promise<void>;
	/** Reads one KV entry of an actor (string keys are UTF-8 encoded); null when the key does not exist. */
	getKv(actorId: string, key: Uint8Array | string): Promise<Uint8Array | null>;
	/** HTTP URL that reaches the actor through the gateway. `path` default "/". */
	gatewayUrl(actorId: string, path?: string): string;
	/** WebSocket URL (ws:/wss:) that reaches the actor through the gateway (subprotocol "rivet"). `path` default "/". */
	gatewayWebSocketUrl(actorId: string, path?: string): string;
}
