/**
 * HTTP through the real engine's gateway and the runner's tunnel: methods, bodies, query strings, headers both ways
 * (repeated Set-Cookie included), large bodies up to and over the engine's 20 MiB limit, handler failures, the abort
 * signal on actor stop, and an actor whose start fails.
 */
import type { EngineHandle } from "@x/dev-engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
	type ErrorContext,
	type NodeRunnerOptions,
	type RequestContext,
	Runner,
	type RunnerError,
} from "../src/index.ts";
import {
	createRunningActor,
	firstDifference,
	patientApi,
	pseudoRandomBytes,
	quietLogger,
	startTestEngine,
	uniquePool,
	waitFor,
} from "./fixtures/tunnel-shared/helpers.ts";
import { echo } from "./fixtures/tunnel-shared/http.ts";

let engine: EngineHandle;
beforeAll(async () => {
	engine = await startTestEngine();
});
afterAll(async () => {
	await engine?.stop();
});

const MiB = 1024 * 1024;

interface Harness {
	runner: Runner;
	pool: string;
	errors: Array<{ error: RunnerError; context: ErrorContext }>;
	/** Creates an actor on the pool and waits until it runs on this runner. */
	actor(name?: string): Promise<string>;
}

/** A runner on a fresh pool with `fetch` (and extra options); shut down after `body`, pass or fail. */
async function withRunner(
	fetch: NonNullable<NodeRunnerOptions["fetch"]>,
	body: (h: Harness) => Promise<void>,
	extra: Partial<NodeRunnerOptions> = {},
): Promise<void> {
	const pool = uniquePool("tunnel-http");
	await patientApi(engine).upsertRunnerConfig(pool);
	const errors: Harness["errors"] = [];
	const runner = new Runner({
		endpoint: engine.endpoint,
		runnerName: pool,
		totalSlots: 10,
		signals: false,
		logger: quietLogger(),
		onActorStart: () => {},
		onError: (error, context) => errors.push({ error, context }),
		fetch,
		...extra,
	});
	try {
		await runner.start();
		let n = 0;
		const actor = (name = "http"): Promise<string> =>
			createRunningActor(engine, runner, { name, key: `${pool}-${n++}`, runnerNameSelector: pool });
		await body({ runner, pool, errors, actor });
	} finally {
		await runner.shutdown();
	}
}

function gateway(
	actorId: string,
	path: string,
	init: RequestInit = {},
	timeoutMs = 30_000,
): Promise<Response> {
	return fetch(engine.api.gatewayUrl(actorId, path), { ...init, signal: AbortSignal.timeout(timeoutMs) });
}

describe("HTTP tunnel", () => {
	it("echoes every method with its body, keeps the query string and passes request headers", async () => {
		await withRunner(echo, async ({ actor }) => {
			const id = await actor();
			for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
				const sent = method === "GET" ? undefined : `body of ${method} ✓`;
				const res = await gateway(id, "/echo/sub?a=1&b=two%20words&a=3&empty=", {
					method,
					headers: {
						"x-custom": `hello-${method}`,
						"accept-language": "fr-CH",
						"content-type": "text/plain",
					},
					...(sent === undefined ? {} : { body: sent }),
				});
				expect(res.status, method).toBe(200);
				expect(res.headers.get("x-method")).toBe(method);
				expect(res.headers.get("x-path")).toBe("/echo/sub");
				expect(res.headers.get("x-search")).toBe("?a=1&b=two%20words&a=3&empty=");
				expect(res.headers.get("x-seen-custom")).toBe(`hello-${method}`);
				expect(res.headers.get("x-seen-accept-language")).toBe("fr-CH");
				expect(await res.text(), method).toBe(sent ?? "");
			}
		});
	});

	it("returns the handler's status and headers; both Set-Cookie values arrive, other repeats are joined", async () => {
		await withRunner(
			async (request) => {
				const path = new URL(request.url).pathname;
				if (path === "/teapot") return new Response("short and stout", { status: 418 });
				if (path === "/empty") return new Response(null, { status: 204 });
				const headers = new Headers({ "x-custom-response": "yes", "content-type": "text/x-test" });
				headers.append("set-cookie", "a=1; Path=/");
				headers.append("set-cookie", "b=2; Path=/; HttpOnly");
				headers.append("x-multi", "one");
				headers.append("x-multi", "two");
				return new Response("created", { status: 201, headers });
			},
			async ({ actor }) => {
				const id = await actor();
				const res = await gateway(id, "/headers");
				expect(res.status).toBe(201);
				expect(await res.text()).toBe("created");
				expect(res.headers.get("x-custom-response")).toBe("yes");
				expect(res.headers.get("content-type")).toBe("text/x-test");
				expect(res.headers.getSetCookie().sort()).toEqual(["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
				expect(res.headers.get("x-multi")).toBe("one, two");

				const teapot = await gateway(id, "/teapot");
				expect(teapot.status).toBe(418);
				expect(await teapot.text()).toBe("short and stout");

				const empty = await gateway(id, "/empty");
				expect(empty.status).toBe(204);
				expect(await empty.text()).toBe("");
			},
		);
	});

	it("round-trips text and 1 MiB of binary byte for byte", async () => {
		await withRunner(echo, async ({ actor }) => {
			const id = await actor();
			const text = "multi-line\ntext with ünïcödé and emoji 🚀\r\n".repeat(100);
			const textRes = await gateway(id, "/echo", {
				method: "POST",
				body: text,
				headers: { "content-type": "text/plain; charset=utf-8" },
			});
			expect(textRes.headers.get("content-type")).toBe("text/plain; charset=utf-8");
			expect(await textRes.text()).toBe(text);

			const bytes = pseudoRandomBytes(MiB, 7);
			const binRes = await gateway(id, "/echo", {
				method: "POST",
				body: bytes,
				headers: { "content-type": "application/octet-stream" },
			});
			expect(binRes.status).toBe(200);
			const back = new Uint8Array(await binRes.arrayBuffer());
			expect(back.length).toBe(MiB);
			expect(firstDifference(back, bytes)).toBe(-1);
		});
	});

	it("carries 19 MiB both ways and exactly 20 MiB back; a larger response is a JSON 5xx, not a truncated body", async () => {
		await withRunner(
			async (request) => {
				const url = new URL(request.url);
				if (url.pathname !== "/big") return echo(request);
				return new Response(pseudoRandomBytes(Number(url.searchParams.get("n")), 3));
			},
			async ({ actor, errors }) => {
				const id = await actor();
				const bytes = pseudoRandomBytes(19 * MiB, 11);
				const res = await gateway(id, "/echo", { method: "POST", body: bytes }, 60_000);
				expect(res.status).toBe(200);
				const back = new Uint8Array(await res.arrayBuffer());
				expect(firstDifference(back, bytes)).toBe(-1);

				const limit = await gateway(id, `/big?n=${20 * MiB}`, {}, 60_000);
				expect(limit.status).toBe(200);
				expect(
					firstDifference(new Uint8Array(await limit.arrayBuffer()), pseudoRandomBytes(20 * MiB, 3)),
				).toBe(-1);

				for (const n of [20 * MiB + 1, 21 * MiB]) {
					const tooBig = await gateway(id, `/big?n=${n}`, {}, 60_000);
					const text = await tooBig.text();
					expect(tooBig.status, `${n} bytes`).toBeGreaterThanOrEqual(500);
					expect(text.length).toBeLessThan(1024);
					expect(tooBig.headers.get("x-rivet-error")).toBe("runner.response_too_large");
					expect(JSON.parse(text)).toMatchObject({ group: "runner", code: "response_too_large" });
				}
				const reported = errors.filter((e) => e.error.code === "BUFFER_FULL");
				expect(reported.map((e) => e.context)).toEqual([
					{ stage: "tunnel", actorId: id },
					{ stage: "tunnel", actorId: id },
				]);
			},
		);
	}, 120_000);

	it("turns a throwing handler into a 500 without stack or message, and reports it to onError", async () => {
		const thrown = new Error("top-secret-detail-42");
		await withRunner(
			() => {
				throw thrown;
			},
			async ({ actor, errors }) => {
				const id = await actor();
				const res = await gateway(id, "/boom");
				const text = await res.text();
				expect(res.status).toBe(500);
				expect(text).not.toContain("top-secret-detail-42");
				expect(text).not.toMatch(/\n\s+at /);
				expect(text).not.toContain(".ts:");
				const reported = await waitFor(() => errors.find((e) => e.error.code === "HANDLER_ERROR"), "onError");
				expect(reported.context).toEqual({ stage: "tunnel", actorId: id });
				expect(reported.error.cause).toBe(thrown);
			},
		);
	});

	it("aborts the context signal of a slow request when the actor stops", async () => {
		const seen: Array<{ ctx: RequestContext; abortedAt: number | undefined; requestAborted: boolean }> = [];
		await withRunner(
			async (request, ctx) => {
				if (new URL(request.url).pathname !== "/slow") return new Response("ok");
				const record = { ctx, abortedAt: undefined as number | undefined, requestAborted: false };
				seen.push(record);
				if (seen.length > 1) return new Response("second attempt");
				await new Promise<void>((resolve) => {
					ctx.signal.addEventListener("abort", () => {
						record.abortedAt = Date.now();
						record.requestAborted = request.signal.aborted;
						resolve();
					});
				});
				return new Response("aborted");
			},
			async ({ runner, actor }) => {
				const id = await actor();
				const pending = gateway(id, "/slow").then(
					(res) => res.status,
					(error: unknown) => error,
				);
				await waitFor(() => seen.length === 1, "the slow request to reach the handler");
				expect(seen[0]!.ctx.signal.aborted).toBe(false);
				const sleptAt = Date.now();
				runner.sleepActor(id);
				await waitFor(() => seen[0]!.abortedAt, "the signal to be aborted");
				expect(seen[0]!.ctx.signal.aborted).toBe(true);
				expect(seen[0]!.requestAborted).toBe(true);
				expect(seen[0]!.abortedAt! - sleptAt).toBeLessThan(5_000);
				// The client is answered (whatever the gateway makes of it), not left hanging.
				const outcome = await pending;
				console.log(`[tunnel-http] slow request outcome after the actor stopped: ${String(outcome)}`);
				expect(outcome).toBeTypeOf("number");
			},
		);
	});

	it("answers quickly, never hangs, when the actor's start fails", async () => {
		let releaseStart: (() => void) | undefined;
		const failStart: NodeRunnerOptions["onActorStart"] = async ({ config }) => {
			if (config.name === "slow-broken") await new Promise<void>((resolve) => (releaseStart = resolve));
			if (config.name !== "http") throw new Error("start refused");
		};
		await withRunner(
			echo,
			async ({ pool, errors }) => {
				// Routed to the runner while the start is still running (the engine would otherwise hold the request
				// until the actor is ready): the runner answers once the start has failed.
				const api = patientApi(engine);
				const slow = await api.createActor({
					name: "slow-broken",
					key: `${pool}-slow`,
					runnerNameSelector: pool,
					crashPolicy: "destroy",
				});
				await waitFor(() => releaseStart, "onActorStart of the slow actor to begin", 60_000);
				const pending = gateway(
					slow.actorId,
					"/echo",
					{ headers: { "x-rivet-skip-ready-wait": "true" } },
					30_000,
				);
				await new Promise((resolve) => setTimeout(resolve, 500));
				let began = Date.now();
				releaseStart!();
				const res = await pending;
				expect(res.status).toBe(503);
				expect(res.headers.get("x-rivet-error")).toBe("runner.actor_start_failed");
				expect(JSON.parse(await res.text())).toMatchObject({ group: "runner", code: "actor_start_failed" });
				expect(Date.now() - began).toBeLessThan(10_000);
				expect(errors.some((e) => e.error.code === "ACTOR_START_FAILED")).toBe(true);

				// Not routed before it is ready: with crash policy "destroy" the engine answers with its own error.
				const broken = await api.createActor({
					name: "broken",
					key: `${pool}-broken`,
					runnerNameSelector: pool,
					crashPolicy: "destroy",
				});
				began = Date.now();
				const engineRes = await gateway(broken.actorId, "/echo", {}, 60_000);
				const tookMs = Date.now() - began;
				console.log(
					`[tunnel-http] failed start, policy destroy: ${engineRes.status} ${engineRes.headers.get("x-rivet-error")} in ${tookMs} ms`,
				);
				expect(engineRes.status).toBeGreaterThanOrEqual(400);
				expect(engineRes.headers.get("x-rivet-error")).toMatch(/^actor\./);
			},
			{ onActorStart: failStart },
		);
	}, 120_000);
});
