/**
 * HTTP through the gateway: method, path, query, headers, binary bodies both ways, status codes, a 1 MiB body, and a
 * throwing handler.
 *
 * @module
 */
import { assertEquals } from "../assert.ts";
import { gatewayRequest, pseudoRandomBytes, Recorder, text, waitFor } from "../support.ts";
import type { Scenario } from "./types.ts";

export const httpRoundTrips: Scenario = {
	name: "HTTP: method, path, query, headers, binary bodies, status codes and handler errors round-trip",
	timeoutMs: 45_000,
	async run(ctx) {
		const engine = await ctx.engine();
		const pool = await ctx.pool("http");
		const rec = new Recorder();
		const runner = await ctx.runner(pool, {
			...rec.callbacks(),
			fetch: async (request, { actorId, generation }) => {
				const url = new URL(request.url);
				if (url.pathname === "/throw") throw new Error("handler failure on purpose");
				if (url.pathname === "/status") {
					return new Response(null, { status: Number(url.searchParams.get("code")) });
				}
				if (url.pathname === "/echo") {
					const body = new Uint8Array(await request.arrayBuffer());
					return new Response(body, {
						status: 201,
						headers: {
							"content-type": "application/octet-stream",
							"x-method": request.method,
							"x-header": request.headers.get("x-conformance") ?? "",
							"x-length": String(body.length),
						},
					});
				}
				return new Response(
					JSON.stringify({
						actorId,
						generation,
						method: request.method,
						path: url.pathname,
						query: url.search,
						header: request.headers.get("x-conformance"),
					}),
					{ headers: { "content-type": "application/json" } },
				);
			},
		});
		await runner.start();
		const { actorId } = await ctx.createActor({
			name: "http",
			runnerNameSelector: pool,
			crashPolicy: "restart",
		});
		await waitFor(() => runner.getActor(actorId)?.state === "running", "actor running");

		const info = await gatewayRequest(engine, actorId, "/some/path?a=1&b=two%20words", {
			headers: { "x-conformance": "hello; q=1" },
		});
		assertEquals(info.status, 200, "GET status");
		assertEquals(info.headers.get("content-type"), "application/json", "GET content-type");
		assertEquals(
			JSON.parse(text(info.body)),
			{
				actorId,
				generation: 0,
				method: "GET",
				path: "/some/path",
				query: "?a=1&b=two%20words",
				header: "hello; q=1",
			},
			"GET as the handler saw it",
		);

		for (const [method, size] of [
			["POST", 1],
			["PUT", 65_537],
			["POST", 1024 * 1024],
		] as const) {
			const body = pseudoRandomBytes(size, size);
			const res = await gatewayRequest(engine, actorId, "/echo", {
				method,
				body,
				headers: { "x-conformance": "bytes" },
			});
			const label = `${method} of ${size} bytes`;
			assertEquals(res.status, 201, `${label}: status`);
			assertEquals(
				[res.headers.get("x-method"), res.headers.get("x-header"), res.headers.get("x-length")],
				[method, "bytes", String(size)],
				`${label}: headers`,
			);
			assertEquals(res.body, body, `${label}: echoed body`);
		}

		for (const code of [204, 404, 418, 503]) {
			const res = await gatewayRequest(engine, actorId, `/status?code=${code}`);
			assertEquals([res.status, res.body.length], [code, 0], `status ${code}`);
		}

		const failed = await gatewayRequest(engine, actorId, "/throw");
		assertEquals(failed.status, 500, "status of a throwing handler");
		assertEquals(text(failed.body).includes("at "), false, "no stack trace in the 500 body");
		await waitFor(() => rec.errors.some((e) => e.includes("handler failure on purpose")), "onError report");

		// The runner keeps serving after the failure, with concurrent requests.
		const parallel = await Promise.all(
			Array.from({ length: 8 }, (_, i) => gatewayRequest(engine, actorId, `/p${i}`)),
		);
		assertEquals(
			parallel.map((r) => [r.status, (JSON.parse(text(r.body)) as { path: string }).path]),
			Array.from({ length: 8 }, (_, i) => [200, `/p${i}`]),
			"8 concurrent requests",
		);
		assertEquals(rec.stops, [], "no actor stopped");
	},
};
