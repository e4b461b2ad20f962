/**
 * What a scenario receives: the runtime's env, the shared engine, a cleanup scope, and shortcuts that register their
 * own cleanup (runners, pools, WebSocket clients).
 *
 * @module
 */
import { type Actor, type CreateActorParams, type EngineHandle, startEngine } from "@x/dev-engine";
import { createConsoleLogger, type Logger, type RunnerOptions } from "@x/runner-core";
import type { ConformanceEnv, RunnerLike } from "./env.ts";
import { type Scope, settleWithin, uniqueName } from "./support.ts";
import { WsClient } from "./ws-client.ts";

/** A logger that prints warnings and errors only, so runner problems show in the test output. */
export function quietLogger(): Logger {
	return createConsoleLogger({ level: "warn" });
}

/**
 * Environment of the engines the suite starts. `rivet-engine` 2.3.19 sometimes misses the wake-up of its workflow
 * worker when a workflow is dispatched (more often on a loaded machine): `POST /actors` then hangs, and new actors are
 * not placed, until the worker's fallback poll, minutes later. Seen on a loaded 2-core machine: most default-config
 * runs of 15–30 sequential `createActor` calls stalled for 30 s or more (with this runner, with the reference runner
 * and with no runner connected at all); no run did with a 500 ms poll interval. The runners under test are not
 * involved, so the suite shortens the poll interval rather than tolerate multi-minute stalls.
 */
export const ENGINE_ENV: Record<string, string> = { RIVET__RUNTIME__WORKER_POLL_INTERVAL_MS: "500" };

/**
 * The handle with an `api` whose failures name the call and how long it took (a bare `TimeoutError` from deep inside
 * `fetch` does not say which of a scenario's calls hung).
 */
export function withLabelledApi(engine: EngineHandle): EngineHandle {
	const api = new Proxy(engine.api, {
		get(target, property, receiver) {
			const value: unknown = Reflect.get(target, property, receiver);
			if (typeof value !== "function") return value;
			return (...args: unknown[]): unknown => {
				const started = Date.now();
				const result: unknown = value.apply(target, args);
				if (!(result instanceof Promise)) return result;
				return result.catch((error: unknown) => {
					const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
					const message = `engine API ${String(property)} failed after ${Date.now() - started} ms: ${detail}`;
					throw new Error(message, { cause: error });
				});
			};
		},
	});
	return new Proxy(engine, {
		get(target, property) {
			if (property === "api") return api;
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === "function" ? value.bind(target) : value;
		},
	});
}

/** One engine shared by the scenarios of a file, started on first use. */
export class SharedEngine {
	#engine: Promise<EngineHandle> | undefined;

	/** The engine, started on the first call. */
	get(): Promise<EngineHandle> {
		this.#engine ??= startEngine({ env: ENGINE_ENV }).then(withLabelledApi);
		return this.#engine;
	}

	/** Whether it was ever started. */
	get started(): boolean {
		return this.#engine !== undefined;
	}

	/** Stops it (idempotent); returns the stopped handle, if one was started. */
	async stop(): Promise<EngineHandle | undefined> {
		const pending = this.#engine;
		if (!pending) return undefined;
		const engine = await pending.catch(() => undefined);
		await engine?.stop();
		return engine;
	}
}

/** Runner options a scenario gives (`endpoint` defaults to the shared engine, `totalSlots` to 20). */
export type ScenarioRunnerOptions = Omit<RunnerOptions, "endpoint" | "runnerName" | "totalSlots"> &
	Partial<Pick<RunnerOptions, "endpoint" | "totalSlots">>;

/** Passed to every scenario. */
export class ScenarioContext {
	readonly env: ConformanceEnv;
	readonly scope: Scope;
	readonly #shared: SharedEngine;

	/** Created by the suite for each scenario run. */
	constructor(env: ConformanceEnv, shared: SharedEngine, scope: Scope) {
		this.env = env;
		this.#shared = shared;
		this.scope = scope;
	}

	/** The engine shared by the scenarios (started on first use). */
	engine(): Promise<EngineHandle> {
		return this.#shared.get();
	}

	/** Creates a fresh runner pool on `engine` (default: the shared one) and returns its name. */
	async pool(prefix: string, engine?: EngineHandle): Promise<string> {
		const name = uniqueName(`${this.env.runtime}-${prefix}`);
		await (engine ?? (await this.engine())).api.upsertRunnerConfig(name);
		return name;
	}

	/**
	 * An adapter runner for `runnerName` with the test defaults (`signals: false`, warn-level logs, 20 slots), shut down
	 * (immediately) when the scenario ends unless it already was.
	 */
	async runner(runnerName: string, options: ScenarioRunnerOptions): Promise<RunnerLike> {
		const endpoint = options.endpoint ?? (await this.engine()).endpoint;
		const runner = new this.env.Runner({
			totalSlots: 20,
			logger: quietLogger(),
			...options,
			endpoint,
			runnerName,
			signals: false,
		});
		this.scope.defer(() => runner.shutdown({ mode: "immediate" }));
		return runner;
	}

	/**
	 * Creates an actor on the shared engine, destroyed when the scenario ends: live actors keep workflows running in the
	 * engine, which slows every later scenario. The destroy is best effort (waited for at most 5 s): it is housekeeping,
	 * not part of what a scenario checks.
	 */
	async createActor(params: CreateActorParams): Promise<Actor> {
		const engine = await this.engine();
		const actor = await engine.api.createActor(params);
		this.scope.defer(async () => {
			if (!engine.running) return;
			await settleWithin(engine.api.destroyActor(actor.actorId), 5_000);
		});
		return actor;
	}

	/** A gateway WebSocket to the actor, closed when the scenario ends. */
	async connect(engine: EngineHandle, actorId: string, path = "/"): Promise<WsClient> {
		const client = await WsClient.connect(this.env.WebSocket, engine.api.gatewayWebSocketUrl(actorId, path));
		this.scope.defer(() => client.dispose());
		return client;
	}
}
