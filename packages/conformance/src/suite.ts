/**
 * `defineConformanceSuite`: registers every scenario, in order, with the runtime's own test runner.
 *
 * @module
 */
import { assertEquals } from "./assert.ts";
import { ScenarioContext, SharedEngine } from "./context.ts";
import type { ConformanceEnv, RegisterScenario } from "./env.ts";
import { alarmWake } from "./scenarios/alarm.ts";
import { compatDropIn } from "./scenarios/compat.ts";
import { actorStartWithInput, connectAndInit } from "./scenarios/connect.ts";
import { engineKillAndRestart } from "./scenarios/engine-restart.ts";
import { hibernationExactlyOnce } from "./scenarios/hibernation.ts";
import { httpRoundTrips } from "./scenarios/http.ts";
import { kvLimits, kvOperations } from "./scenarios/kv.ts";
import { signalShutdown } from "./scenarios/signal-shutdown.ts";
import type { Scenario } from "./scenarios/types.ts";
import { webSocketClose, webSocketEcho } from "./scenarios/websocket.ts";
import { Scope } from "./support.ts";

/** Every scenario, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
	connectAndInit,
	actorStartWithInput,
	kvOperations,
	kvLimits,
	httpRoundTrips,
	webSocketEcho,
	webSocketClose,
	hibernationExactlyOnce,
	alarmWake,
	signalShutdown,
	engineKillAndRestart,
	compatDropIn,
];

/** Extra time the test runner allows on top of a scenario's own budget, for its cleanup. */
const CLEANUP_MS = 20_000;

/** Runs `body` with a deadline (Deno's test runner has no per-test timeout, so the suite keeps its own). */
async function withDeadline(name: string, ms: number, body: Promise<void>): Promise<void> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	try {
		await Promise.race([
			body,
			new Promise<never>((_, reject) => {
				timer = setTimeout(() => reject(new Error(`scenario "${name}" took longer than ${ms} ms`)), ms);
			}),
		]);
	} finally {
		clearTimeout(timer);
	}
}

/**
 * Registers the conformance scenarios with `register` (vitest `it`, `bun:test` `test`, or a `Deno.test` wrapper), run
 * against a real engine from `@x/dev-engine` with `env`'s adapter. One engine is shared (started on first use) and
 * stopped by the last scenario, "teardown", and by `env.afterAll` where given. Every runtime registers the same
 * scenarios, so the counts match.
 */
export function defineConformanceSuite(register: RegisterScenario, env: ConformanceEnv): void {
	const shared = new SharedEngine();
	for (const scenario of SCENARIOS) {
		register(
			`[${env.runtime}] ${scenario.name}`,
			async () => {
				const scope = new Scope();
				const ctx = new ScenarioContext(env, shared, scope);
				let failure: unknown;
				try {
					await withDeadline(scenario.name, scenario.timeoutMs, scenario.run(ctx));
				} catch (error) {
					failure = error;
				}
				const cleanupFailure = await scope.close();
				if (failure !== undefined) throw await annotate(failure, shared);
				if (cleanupFailure !== undefined) throw cleanupFailure;
			},
			scenario.timeoutMs + CLEANUP_MS,
		);
	}
	register(
		`[${env.runtime}] teardown: the shared engine stops and leaves nothing running`,
		async () => {
			const engine = await shared.stop();
			if (engine) assertEquals(engine.running, false, "shared engine running after stop()");
		},
		CLEANUP_MS,
	);
	env.afterAll?.(async () => {
		await shared.stop();
	});
}

/** The failure with the shared engine's recent log appended (the engine's view often explains a failure). */
async function annotate(failure: unknown, shared: SharedEngine): Promise<unknown> {
	if (!shared.started) return failure;
	const engine = await shared.get().catch(() => undefined);
	const tail = engine?.logTail().split("\n").slice(-20).join("\n");
	if (!tail) return failure;
	const message = failure instanceof Error ? `${failure.name}: ${failure.message}` : String(failure);
	const wrapped = new Error(`${message}\n--- shared engine log tail ---\n${tail}`, { cause: failure });
	if (failure instanceof Error && failure.stack)
		wrapped.stack = `${wrapped.message}\n${failure.stack.split("\n").slice(1).join("\n")}`;
	return wrapped;
}
