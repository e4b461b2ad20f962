import type {
	Actor,
	CrashPolicy,
	CreateActorParams,
	EngineApi,
	EngineApiOptions,
	ListActorsParams,
	ListActorsResult,
	RunnerConfigBody,
} from "./api-types.ts";
import { fromBase64, toBase64 } from "./bytes.ts";
import { EngineApiError } from "./errors.ts";

type Json = Record<string, unknown>;
type Query = Record<string, string | readonly string[] | undefined>;

const DEFAULT_RUNNER_CONFIG: RunnerConfigBody = { datacenters: { default: { normal: {} } } };

/**
 * Creates a typed client for an engine's public API (a dev engine or a deployed one).
 * @param endpoint Base URL such as "http://127.0.0.1:6420".
 * @param options `namespace` default "default"; `token` adds `Authorization: Bearer`; `timeoutMs` default 30000.
 */
export function createEngineApi(endpoint: string, options: EngineApiOptions = {}): EngineApi {
	const base = endpoint.replace(/\/+$/, "");
	const namespace = options.namespace ?? "default";
	const timeoutMs = options.timeoutMs ?? 30_000;
	const doFetch = options.fetch ?? fetch;

	async function call(method: string, path: string, query: Query = {}, body?: unknown): Promise<Json> {
		const url = new URL(`${base}${path}`);
		for (const [name, value] of Object.entries({ namespace, ...query })) {
			if (value === undefined) continue;
			for (const item of typeof value === "string" ? [value] : value) url.searchParams.append(name, item);
		}
		const headers: Record<string, string> = { accept: "application/json" };
		if (body !== undefined) headers["content-type"] = "application/json";
		if (options.token) headers.authorization = `Bearer ${options.token}`;
		const res = await doFetch(url, {
			method,
			headers,
			...(body !== undefined ? { body: JSON.stringify(body) } : {}),
			signal: AbortSignal.timeout(timeoutMs),
		});
		const text = await res.text();
		let parsed: unknown = text;
		try {
			parsed = text ? JSON.parse(text) : {};
		} catch {
			// keep the raw text
		}
		if (!res.ok) throw new EngineApiError(method, `${url.pathname}${url.search}`, res.status, parsed);
		return typeof parsed === "object" && parsed !== null ? (parsed as Json) : {};
	}

	function actorBody(params: CreateActorParams): Json {
		return {
			name: params.name,
			...(params.key !== undefined ? { key: params.key } : {}),
			...(params.input !== undefined ? { input: toBase64(params.input) } : {}),
			runner_name_selector: params.runnerNameSelector,
			crash_policy: params.crashPolicy ?? "sleep",
			...(params.datacenter !== undefined ? { datacenter: params.datacenter } : {}),
		};
	}

	function gateway(actorId: string, path: string): URL {
		const suffix = path.startsWith("/") ? path : `/${path}`;
		return new URL(`${base}/gateway/${encodeURIComponent(actorId)}${suffix}`);
	}

	return {
		endpoint: base,
		namespace,
		async health() {
			return (await call("GET", "/health")) as { status: string; version: string; runtime?: string };
		},
		async ensureNamespace(name = namespace) {
			try {
				await call("POST", "/namespaces", {}, { name, display_name: name });
			} catch (err) {
				if (!(err instanceof EngineApiError && err.code === "name_not_unique")) throw err;
			}
		},
		async upsertRunnerConfig(runnerName, body = DEFAULT_RUNNER_CONFIG) {
			const res = await call("PUT", `/runner-configs/${encodeURIComponent(runnerName)}`, {}, body);
			return { endpointConfigChanged: res.endpoint_config_changed === true };
		},
		async createActor(params) {
			const res = await call("POST", "/actors", {}, actorBody(params));
			return toActor(res.actor);
		},
		async getOrCreateActor(params) {
			const res = await call("PUT", "/actors", {}, actorBody(params));
			return { actor: toActor(res.actor), created: res.created === true };
		},
		async getActor(actorId) {
			const page = await listActorsPage({ actorIds: [actorId] });
			return page.actors.find((a) => a.actorId === actorId) ?? null;
		},
		listActors: listActorsPage,
		async destroyActor(actorId) {
			await call("DELETE", `/actors/${encodeURIComponent(actorId)}`);
		},
		async getKv(actorId, key) {
			const path = `/actors/${encodeURIComponent(actorId)}/kv/keys/${encodeURIComponent(toBase64(key))}`;
			try {
				const res = await call("GET", path);
				return typeof res.value === "string" ? fromBase64(res.value) : null;
			} catch (err) {
				if (err instanceof EngineApiError && err.code === "kv_key_not_found") return null;
				throw err;
			}
		},
		gatewayUrl(actorId, path = "/") {
			return gateway(actorId, path).toString();
		},
		gatewayWebSocketUrl(actorId, path = "/") {
			const url = gateway(actorId, path);
			url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
			return url.toString();
		},
	};

	async function listActorsPage(params: ListActorsParams = {}): Promise<ListActorsResult> {
		const res = await call("GET", "/actors", {
			name: params.name,
			key: params.key,
			actor_id: params.actorIds,
			include_destroyed: params.includeDestroyed ? "true" : undefined,
			limit: params.limit !== undefined ? String(params.limit) : undefined,
			cursor: params.cursor,
		});
		const actors = Array.isArray(res.actors) ? res.actors.map(toActor) : [];
		const pagination = (res.pagination ?? {}) as Json;
		return { actors, cursor: typeof pagination.cursor === "string" ? pagination.cursor : null };
	}
}

/** Converts the engine's snake_case actor JSON into an {@link Actor}. */
export function toActor(raw: unknown): Actor {
	const a = (raw ?? {}) as Json;
	const num = (v: unknown): number | null => (typeof v === "number" ? v : null);
	const actor: Actor = {
		actorId: String(a.actor_id),
		name: String(a.name),
		key: typeof a.key === "string" ? a.key : null,
		namespaceId: String(a.namespace_id),
		datacenter: String(a.datacenter),
		runnerNameSelector: String(a.runner_name_selector),
		crashPolicy: a.crash_policy as CrashPolicy,
		createTs: num(a.create_ts) ?? 0,
		startTs: num(a.start_ts),
		pendingAllocationTs: num(a.pending_allocation_ts),
		connectableTs: num(a.connectable_ts),
		sleepTs: num(a.sleep_ts),
		rescheduleTs: num(a.reschedule_ts),
		destroyTs: num(a.destroy_ts),
	};
	if (a.error !== undefined && a.error !== null) actor.error = a.error;
	return actor;
}
