/**
 * Wiring: an engine (embedded, or a deployed one), the runner pool, the runner and the room actor.
 * Each example's main.ts runs it from the command line, with its adapter's `Runner`; the tests and the repo's demo
 * call {@link startApp} directly.
 */
import { createEngineApi, type EngineApi, type EngineHandle, startEngine } from "@x/dev-engine";
import { createConsoleLogger, type Logger, type Runner } from "@x/runner-core";
import { createRoomRunner, type EngineOptions, type RunnerClass } from "./room.ts";

/** Options of {@link startApp}. */
export interface AppOptions {
	/** The adapter's `Runner` class, e.g. `import { Runner } from "@x/runner-node"`. */
	Runner: RunnerClass;
	/** A deployed engine. Default: start an embedded engine on loopback. */
	endpoint?: string;
	/** Admin token of that engine. */
	token?: string;
	/** Namespace. Default: "default". */
	namespace?: string;
	/** Runner pool. Default: "chat-example". */
	runnerName?: string;
	/** Room (actor key). Default: "lobby". */
	room?: string;
	/** Idle time before the actor sleeps, in ms. Default: 10000. */
	idleMs?: number;
	/** Runner logger. Default: JSON lines on the console, warnings and errors only. */
	logger?: Logger;
}

/** A running app. */
export interface App {
	/** The room's page, through the engine's gateway. */
	readonly url: string;
	readonly actorId: string;
	/** The engine's public endpoint. */
	readonly endpoint: string;
	readonly api: EngineApi;
	readonly runner: Runner;
	/** The embedded engine, when no endpoint was given. */
	readonly engine: EngineHandle | undefined;
	/** Drains the runner (the engine stops its actors), then stops the embedded engine. */
	stop(): Promise<void>;
}

/** Starts everything and resolves once the room is reachable. */
export async function startApp(options: AppOptions): Promise<App> {
	const runnerName = options.runnerName ?? "chat-example";
	const engine = options.endpoint ? undefined : await startEngine();
	let runner: Runner | undefined;
	try {
		const endpoint = engine?.endpoint ?? (options.endpoint as string);
		const api =
			engine?.api ??
			createEngineApi(endpoint, {
				...(options.namespace ? { namespace: options.namespace } : {}),
				...(options.token ? { token: options.token } : {}),
			});
		// The engine places actors only on a known runner pool: create (or update) it first.
		await api.upsertRunnerConfig(runnerName);
		const engineOptions: EngineOptions = {
			endpoint,
			runnerName,
			logger: options.logger ?? createConsoleLogger({ level: "warn" }),
			...(options.token ? { token: options.token } : {}),
			...(options.namespace ? { namespace: options.namespace } : {}),
		};
		runner = createRoomRunner(options.Runner, engineOptions, options.idleMs ?? 10_000);
		await runner.start();
		// One actor per room key. Crash policy "sleep": if no runner is up, the actor sleeps and a request wakes it.
		const { actor } = await api.getOrCreateActor({
			name: "chat-room",
			key: options.room ?? "lobby",
			runnerNameSelector: runnerName,
			crashPolicy: "sleep",
		});
		const started = runner;
		let stopping: Promise<void> | undefined;
		return {
			url: api.gatewayUrl(actor.actorId, "/"),
			actorId: actor.actorId,
			endpoint,
			api,
			runner: started,
			engine,
			stop() {
				stopping ??= (async () => {
					// Ctrl-C in a terminal reaches the whole process group, so an embedded engine may be stopping too.
					// Then nobody is left to drain to: stop the actors at once instead of waiting out the drain deadline.
					const watch = engine
						? setInterval(() => {
								if (!engine.running || !started.connected) void started.shutdown({ mode: "immediate" });
							}, 100)
						: undefined;
					try {
						await started.shutdown();
					} finally {
						clearInterval(watch);
						await engine?.stop();
					}
				})();
				return stopping;
			},
		};
	} catch (error) {
		await runner?.shutdown({ mode: "immediate" });
		await engine?.stop();
		throw error;
	}
}
