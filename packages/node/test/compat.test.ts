/**
 * The drop-in `Runner` from `@x/runner-node/compat`, used the way `@rivetkit/engine-runner@2.2.1` users write it:
 * positional callbacks, the app persisting its own hibernation metadata in KV, acknowledging with
 * `sendHibernatableWebSocketMessageAck`, and calling `restoreHibernatingRequests` at the end of `onActorStart`.
 */
import type { EngineHandle } from "@x/dev-engine";
import { type HibernatingWebSocketMetadata, idToStr, Runner } from "@x/runner-node/compat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { utf8Decode, utf8Encode } from "../src/index.ts";
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

const META_PREFIX = utf8Encode("hws-meta/");

interface StoredMeta {
	gatewayId: string;
	requestId: string;
	path: string;
	headers: Record<string, string>;
	serverMessageIndex: number;
}

function hexBuffer(hex: string): ArrayBuffer {
	return Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16)).buffer;
}

/** What the app saw, for the assertions. */
interface AppLog {
	connected: number;
	starts: Array<{ actorId: string; generation: number; restoredMetas: number }>;
	sockets: Array<{
		path: string;
		isHibernatable: boolean;
		isRestoring: boolean;
		gatewayId: string;
		requestId: string;
	}>;
	messages: Array<{ data: string; index: number; gatewayId: string; requestId: string }>;
	closes: Array<{ code: number; reason: string }>;
}

/** A reference-style runner: every field of the 2.2.1 `RunnerConfig`, positional callbacks. */
function referenceStyleRunner(pool: string, log: AppLog): Runner {
	const metaKey = (gw: string, rq: string): Uint8Array => utf8Encode(`hws-meta/${gw}${rq}`);
	const runner: Runner = new Runner({
		logger: quietLogger(),
		version: 1,
		endpoint: engine.endpoint,
		namespace: "default",
		totalSlots: 10,
		runnerName: pool,
		prepopulateActorNames: {},
		noAutoShutdown: true,
		onConnected: () => {
			log.connected++;
		},
		onDisconnected: () => {},
		onShutdown: () => {},
		onActorStart: async (actorId, generation) => {
			const stored = await runner.kvListPrefix(actorId, META_PREFIX);
			const metas: HibernatingWebSocketMetadata[] = stored.map(([, value]) => {
				const meta = JSON.parse(utf8Decode(value)) as StoredMeta;
				return {
					gatewayId: hexBuffer(meta.gatewayId),
					requestId: hexBuffer(meta.requestId),
					clientMessageIndex: 0,
					serverMessageIndex: meta.serverMessageIndex,
					path: meta.path,
					headers: meta.headers,
				};
			});
			log.starts.push({ actorId, generation, restoredMetas: metas.length });
			await runner.restoreHibernatingRequests(actorId, metas);
		},
		onActorStop: async () => {},
		fetch: async (_runner, actorId, gatewayId, requestId, request) =>
			new Response(
				`${request.method} ${new URL(request.url).pathname} ${actorId} ${idToStr(gatewayId)}:${idToStr(requestId)}`,
			),
		hibernatableWebSocket: { canHibernate: () => true },
		websocket: async (
			r,
			actorId,
			ws,
			gatewayId,
			requestId,
			_request,
			path,
			headers,
			isHibernatable,
			isRestoring,
		) => {
			const gw = idToStr(gatewayId);
			const rq = idToStr(requestId);
			log.sockets.push({ path, isHibernatable, isRestoring, gatewayId: gw, requestId: rq });
			const meta: StoredMeta = { gatewayId: gw, requestId: rq, path, headers, serverMessageIndex: 0 };
			if (isHibernatable && !isRestoring)
				await r.kvPut(actorId, [[metaKey(gw, rq), utf8Encode(JSON.stringify(meta))]]);
			let chain = Promise.resolve();
			ws.addEventListener("message", (event) => {
				const index = event.rivetMessageIndex;
				const data = String(event.data);
				log.messages.push({
					data,
					index,
					gatewayId: idToStr(event.rivetGatewayId),
					requestId: idToStr(event.rivetRequestId),
				});
				chain = chain.then(async () => {
					meta.serverMessageIndex = index;
					await r.kvPut(actorId, [[metaKey(gw, rq), utf8Encode(JSON.stringify(meta))]]);
					r.sendHibernatableWebSocketMessageAck(event.rivetGatewayId, event.rivetRequestId, index);
					ws.send(`echo:${data}`);
				});
			});
			ws.addEventListener("close", ({ code, reason }) => {
				log.closes.push({ code, reason });
				void r.kvDelete(actorId, [metaKey(gw, rq)]).catch(() => {});
			});
		},
	});
	return runner;
}

describe("compat Runner (the 2.2.1 configuration)", () => {
	it("serves HTTP, and a hibernatable socket survives a sleep with its messages delivered once each", async () => {
		const pool = uniquePool("compat");
		await patientApi(engine).upsertRunnerConfig(pool);
		const log: AppLog = { connected: 0, starts: [], sockets: [], messages: [], closes: [] };
		const runner = referenceStyleRunner(pool, log);
		let client: TestClient | undefined;
		try {
			await runner.start();
			await waitFor(() => log.connected > 0, "onConnected", 60_000);
			expect(runner.runnerId).toBeTypeOf("string");
			const actorId = await createRunningActor(engine, runner, {
				name: "compat",
				key: pool,
				runnerNameSelector: pool,
			});

			const res = await fetch(engine.api.gatewayUrl(actorId, "/hello?x=1"), {
				signal: AbortSignal.timeout(60_000),
			});
			expect(res.status).toBe(200);
			expect(await res.text()).toMatch(new RegExp(`^GET /hello ${actorId} [0-9a-f]{8}:[0-9a-f]{8}$`));

			client = new TestClient(engine.api.gatewayWebSocketUrl(actorId, "/chat?room=7"));
			await client.opened;
			for (const m of ["a0", "a1"]) await client.send(m);
			await client.waitFrames(2, 30_000);
			expect(log.sockets).toMatchObject([{ path: "/chat?room=7", isHibernatable: true, isRestoring: false }]);
			const [{ gatewayId, requestId }] = log.sockets as [AppLog["sockets"][number]];
			expect(log.messages.every((m) => m.gatewayId === gatewayId && m.requestId === requestId)).toBe(true);

			runner.sleepActor(actorId);
			const api = patientApi(engine);
			await waitFor(
				async () => !runner.hasActor(actorId) && (await api.getActor(actorId))?.sleepTs != null,
				"the actor to be asleep",
				60_000,
				100,
			);
			const asleep = ["b0", "b1", "b2", "b3", "b4"];
			for (const m of asleep) await client.send(m);
			await client.waitFrames(7, 90_000);

			const all = ["a0", "a1", ...asleep];
			expect(client.texts).toEqual(all.map((m) => `echo:${m}`));
			expect(client.closed).toBeUndefined();
			expect(log.messages.map((m) => m.data)).toEqual(all);
			expect(log.messages.map((m) => m.index)).toEqual(all.map((_, i) => i + 1));
			expect(log.starts.map((s) => s.restoredMetas)).toEqual([0, 1]);
			expect(log.sockets[1]).toEqual({
				path: "/chat?room=7",
				isHibernatable: true,
				isRestoring: true,
				gatewayId,
				requestId,
			});
			const [stored] = await runner.kvGet(actorId, [utf8Encode(`hws-meta/${gatewayId}${requestId}`)]);
			expect(JSON.parse(utf8Decode(stored!)) as StoredMeta).toMatchObject({ serverMessageIndex: 7 });

			await client.close(4000, "bye");
			await waitFor(() => log.closes.length > 0, "the app's close listener");
			expect(log.closes).toEqual([{ code: 4000, reason: "bye" }]);
		} finally {
			client?.socket.terminate();
			await runner.shutdown(false);
		}
	}, 240_000);
});
