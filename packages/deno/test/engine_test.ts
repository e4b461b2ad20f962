import { startEngine } from "@x/dev-engine";
import { createConsoleLogger, Runner } from "../mod.ts";

function assertEquals(actual: unknown, expected: unknown): void {
	if (actual !== expected) throw new Error(`expected ${String(expected)}, got ${String(actual)}`);
}

Deno.test({
	name: "Deno runner serves HTTP for an actor against the real engine",
	sanitizeOps: false,
	sanitizeResources: false,
	async fn() {
		const engine = await startEngine();
		const runner = new Runner({
			endpoint: engine.endpoint,
			runnerName: "deno-smoke",
			totalSlots: 4,
			signals: false,
			logger: createConsoleLogger({ level: "warn" }),
			onActorStart: () => {},
			fetch: (request) => new Response(`deno ${new URL(request.url).pathname}`),
		});
		try {
			await engine.api.upsertRunnerConfig("deno-smoke");
			await runner.start();
			const actor = await engine.api.createActor({
				name: "a",
				key: "deno-1",
				runnerNameSelector: "deno-smoke",
			});
			const response = await fetch(engine.api.gatewayUrl(actor.actorId, "/y"));
			assertEquals(await response.text(), "deno /y");
		} finally {
			await runner.shutdown();
			await engine.stop();
		}
	},
});
