/**
 * Hibernating WebSockets, less common paths, against the real engine: acknowledging by hand in commit "manual" mode
 * (`event.ack()`, `runner.ackWebSocketMessage()`), and the actor pushing to a hibernated client after it was woken by
 * something else than that client (an HTTP request).
 */
import type { EngineHandle } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NodeRunnerOptions, Runner } from "../src/index.ts";
import {
	createRunningActor,
	patientApi,
	quietLogger,
	startTestEngine,
	TestClient,
	uniquePool,
	waitFor,
} from "./fixtures/tunnel-shared/helpers.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startTestEngine();
});
afterAll(async () => {
	await engine?.stop();
});

/** A runner with hibernatable sockets on a fresh pool, an actor running on it, and a client connected to `path`. */
async function withHibernatingSocket(
	options: Pick<NodeRunnerOptions, "websocket" | "fetch" | "hibernation">,
	path: string,
	body: (ctx: { runner: Runner; actorId: string; client: TestClient }) => Promise<void>,
): Promise<void> {
	const pool = uniquePool("hws-edges");
	await patientApi(engine).upsertRunnerConfig(pool);
	const runner = new Runner({
		endpoint: engine.endpoint,
		runnerName: pool,
		totalSlots: 5,
		signals: false,
		logger: quietLogger(),
		canHibernate: () => true,
		onActorStart: () => {},
		...options,
	});
	let client: TestClient | undefined;
	try {
		await runner.start();
		const actorId = await createRunningActor(engine, runner, {
			name: "edges",
			key: pool,
			runnerNameSelector: pool,
		});
		client = new TestClient(engine.api.gatewayWebSocketUrl(actorId, path));
		await client.opened;
		await body({ runner, actorId, client });
	} finally {
		client?.socket.terminate();
		await runner.shutdown();
	}
}

/** Puts the actor to sleep and waits until the engine reports it asleep. */
async function sleepAndWait(runner: Runner, actorId: string): Promise<void> {
	runner.sleepActor(actorId);
	const api = patientApi(engine);
	await waitFor(
		async () => !runner.hasActor(actorId) && (await api.getActor(actorId))?.sleepTs != null,
		"the actor to be asleep",
		60_000,
		100,
	);
}

describe("hibernation edges", () => {
	it.each(["event.ack()", "runner.ackWebSocketMessage()"] as const)(
		"commit 'manual' with %s: the socket survives a sleep and continues where it was",
		async (style) => {
			const received: string[] = [];
			await withHibernatingSocket(
				{
					hibernation: { commit: "manual" },
					websocket: (socket, ctx) => {
						socket.addEventListener("message", (event) => {
							received.push(String(event.data));
							if (style === "event.ack()") event.ack();
							else ctx.runner.ackWebSocketMessage(event.gatewayId, event.requestId, event.messageIndex);
							socket.send(`ack:${String(event.data)}`);
						});
					},
				},
				"/ack",
				async ({ runner, actorId, client }) => {
					for (const m of ["a", "b", "c"]) await client.send(m);
					await client.waitFrames(3, 30_000);
					await sleepAndWait(runner, actorId);
					await client.send("after-sleep");
					await waitFor(() => client.frames.length >= 4 || client.closed, "a reply or a close", 60_000, 50);
					expect(client.closed).toBeUndefined();
					expect(client.texts).toEqual(["ack:a", "ack:b", "ack:c", "ack:after-sleep"]);
					expect(received).toEqual(["a", "b", "c", "after-sleep"]);
					expect(runner.webSocketMetrics).toMatchObject({ gaps: 0, droppedDuplicates: 0, restored: 1 });
				},
			);
		},
		120_000,
	);

	it("a socket restored because an HTTP request woke the actor can push to its client", async () => {
		const restoredAt: number[] = [];
		await withHibernatingSocket(
			{
				fetch: () => new Response("awake"),
				websocket: (socket, ctx) => {
					if (ctx.restored) {
						restoredAt.push(Date.now());
						// Restored sockets open when the handler returns (sending inside it throws: KNOWN-BUGS-tunnel).
						setTimeout(() => socket.send("welcome back"), 0);
					}
					socket.addEventListener("message", (event) => socket.send(`echo:${String(event.data)}`));
				},
			},
			"/push",
			async ({ runner, actorId, client }) => {
				await client.send("hi");
				await client.waitFrames(1, 30_000);
				await sleepAndWait(runner, actorId);
				const res = await fetch(engine.api.gatewayUrl(actorId, "/"), { signal: AbortSignal.timeout(60_000) });
				expect(await res.text()).toBe("awake");
				await waitFor(() => client.frames.length >= 2 || client.closed, "the pushed message", 30_000, 50);
				console.log(
					`[hibernation-edges] push after an HTTP wake arrived ${Date.now() - (restoredAt[0] ?? Date.now())} ms after the restore`,
				);
				expect(client.closed).toBeUndefined();
				expect(client.texts).toEqual(["echo:hi", "welcome back"]);
				// And the connection still works both ways.
				await client.send("again");
				await client.waitFrames(3, 30_000);
				expect(client.texts[2]).toBe("echo:again");
			},
		);
	}, 120_000);
});
