/**
 * The drop-in scenario: code written against `@rivetkit/engine-runner@2.2.1` (its `RunnerConfig`, positional
 * callbacks, `Runner` methods) runs unchanged on the adapter's `/compat` entry.
 *
 * @module
 */
import type { RunnerConfig } from "@x/runner-core/compat";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { quietLogger } from "../context.ts";
import type { CompatRunnerLike } from "../env.ts";
import { gatewayRequest, text, utf8, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

const hex = (buffer: ArrayBuffer): string =>
	[...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");

export const compatDropIn: Scenario = {
	name: "compat: a runner written for @rivetkit/engine-runner@2.2.1 serves actors, KV, HTTP and WebSockets unchanged",
	timeoutMs: 60_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("compat");
		const events: string[] = [];
		const starts: Array<{ actorId: string; generation: number; name: string; input: string | null }> = [];
		let connected = 0;
		let shutdowns = 0;
		// The holder lets callbacks reach the runner, as reference apps do with a module-level variable.
		const holder: { runner?: CompatRunnerLike } = {};
		const config: RunnerConfig = {
			version: 1,
			endpoint: engine.endpoint,
			namespace: "default",
			totalSlots: 10,
			runnerName: pool,
			prepopulateActorNames: { compat: { metadata: { kind: "conformance" } } },
			metadata: { runtime: ctx.env.runtime },
			logger: quietLogger(),
			noAutoShutdown: true,
			onConnected: () => {
				connected++;
			},
			onDisconnected: (code) => {
				events.push(`disconnected:${code}`);
			},
			onShutdown: () => {
				shutdowns++;
			},
			onActorStart: async (actorId, generation, actorConfig) => {
				starts.push({
					actorId,
					generation,
					name: actorConfig.name,
					input: actorConfig.input ? text(actorConfig.input) : null,
				});
				await holder.runner!.kvPut(actorId, [[utf8("started"), utf8(String(generation))]]);
			},
			onActorStop: async (actorId, generation) => {
				events.push(`stop:${actorId}:${generation}`);
			},
			fetch: async (runner, actorId, gatewayId, requestId, request) => {
				const [started] = await runner.kvGet(actorId, [utf8("started")]);
				const body = request.method === "POST" ? await request.text() : "";
				return new Response(
					JSON.stringify({
						actorId,
						path: new URL(request.url).pathname,
						started: text(started),
						body,
						gatewayId: hex(gatewayId),
						requestId: hex(requestId),
						same: runner === holder.runner,
					}),
				);
			},
			websocket: async (
				_runner,
				actorId,
				ws,
				gatewayId,
				requestId,
				_request,
				path,
				headers,
				hibernatable,
				restoring,
			) => {
				assertEquals([gatewayId.byteLength, requestId.byteLength], [4, 4], "websocket id sizes");
				ws.addEventListener("message", (event) => {
					ws.send(
						`${actorId}:${path}:${hibernatable}:${restoring}:${headers["x-missing"] ?? "-"}:${String(event.data)}`,
					);
				});
			},
			hibernatableWebSocket: { canHibernate: () => false },
		};
		const runner = new ctx.env.CompatRunner(config);
		holder.runner = runner;
		ctx.scope.defer(() => runner.shutdown(true));
		assertEquals(runner.config, config, "runner.config");
		await runner.start();
		await waitFor(() => connected === 1, "onConnected");
		assertMatch(runner.runnerId, /^[0-9a-z]{30}$/, "runnerId");
		const metadata = runner.getProtocolMetadata();
		assertEquals(typeof metadata?.runnerLostThreshold, "bigint", "getProtocolMetadata().runnerLostThreshold");
		assert(
			typeof runner.getServerlessInitPacket() === "string",
			"getServerlessInitPacket() after connecting",
		);

		const created = await ctx.createActor({
			name: "compat",
			key: "compat-key",
			input: "compat input",
			runnerNameSelector: pool,
			crashPolicy: "sleep",
		});
		const actorId = created.actorId;
		// A "sleep" actor starts on its first gateway request. That start is usually generation 0, but 1 when the engine
		// tried to place the actor before this runner was eligible (it then sleeps unallocated, and the request wakes it
		// as generation + 1); every later start must be the generation after the previous one.
		const first = await gatewayRequest(engine, actorId, "/first", { method: "POST", body: "payload" });
		assertEquals(first.status, 200, "first request status");
		const generation = starts[0]?.generation ?? 0;
		assert(generation <= 1, `first generation ${generation}`);
		const answer = JSON.parse(text(first.body)) as Record<string, unknown>;
		assertEquals(
			[answer.actorId, answer.path, answer.started, answer.body, answer.same],
			[actorId, "/first", String(generation), "payload", true],
			"fetch(runner, actorId, gatewayId, requestId, request)",
		);
		assertMatch(answer.gatewayId, /^[0-9a-f]{8}$/, "gatewayId bytes");
		assertMatch(answer.requestId, /^[0-9a-f]{8}$/, "requestId bytes");
		assertEquals(
			starts,
			[{ actorId, generation, name: "compat", input: "compat input" }],
			"onActorStart calls",
		);
		assertEquals(runner.hasActor(actorId), true, "hasActor");
		assertEquals((await runner.getAndWaitForActor(actorId)).actorId, actorId, "getAndWaitForActor");

		await runner.kvPut(actorId, [
			[utf8("k/1"), utf8("one")],
			[utf8("k/2"), utf8("two")],
		]);
		assertEquals(
			(await runner.kvListPrefix(actorId, utf8("k/"), { reverse: true })).map(
				([k, v]) => `${text(k)}=${text(v)}`,
			),
			["k/2=two", "k/1=one"],
			"kvListPrefix",
		);
		await runner.kvDelete(actorId, [utf8("k/1")]);
		assertEquals((await runner.kvGet(actorId, [utf8("k/1"), utf8("k/2")])).map(text), ["", "two"], "kvGet");

		const client = await ctx.connect(engine, actorId, "/sock");
		client.send("hi");
		const [reply] = await client.waitForCount(1);
		assertEquals(
			reply,
			{ kind: "text", text: `${actorId}:/sock:false:false:-:hi` },
			"websocket callback arguments",
		);
		await client.dispose();

		runner.sleepActor(actorId);
		await waitFor(() => events.includes(`stop:${actorId}:${generation}`), "onActorStop after sleepActor");
		const woke = await gatewayRequest(engine, actorId, "/again");
		assertEquals(
			(JSON.parse(text(woke.body)) as { started: string }).started,
			String(generation + 1),
			"generation after the wake",
		);
		assertEquals(
			starts.map((s) => s.generation),
			[generation, generation + 1],
			"generations started",
		);

		await runner.shutdown(false);
		assertEquals(shutdowns, 1, "onShutdown calls");
		assert(
			events.includes(`stop:${actorId}:${generation + 1}`),
			`onActorStop during the shutdown: ${events.join(", ")}`,
		);
		assertEquals(runner.hasActor(actorId), false, "hasActor after the shutdown");
	},
};
