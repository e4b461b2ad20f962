import type { ToClient } from "@rivetkit/engine-runner-protocol";
import { describe, expect, it } from "vitest";
import { utf8Decode } from "../src/index.ts";
import { connected, deferred, startActors } from "./helpers.ts";

const messageId = {
	gatewayId: new Uint8Array([1, 2, 3, 4]).buffer,
	requestId: new Uint8Array([5, 6, 7, 8]).buffer,
	messageIndex: 0,
};

function requestStart(actorId: string, headers: Array<[string, string]>, method = "POST"): ToClient {
	return {
		tag: "ToClientTunnelMessage",
		val: {
			messageId,
			messageKind: {
				tag: "ToClientRequestStart",
				val: {
					actorId,
					method,
					path: "/echo?x=1",
					headers: new Map(headers),
					body: new TextEncoder().encode("hello").buffer,
					stream: false,
				},
			},
		},
	};
}

function requestAbort(): ToClient {
	return {
		tag: "ToClientTunnelMessage",
		val: { messageId, messageKind: { tag: "ToClientRequestAbort", val: null } },
	};
}

function responseBody(h: Awaited<ReturnType<typeof connected>>): string | undefined {
	const start = h.engine.last
		.sent("ToServerTunnelMessage")
		.map((m) => m.messageKind)
		.find((k) => k.tag === "ToServerResponseStart");
	return start?.tag === "ToServerResponseStart" && start.val.body
		? utf8Decode(new Uint8Array(start.val.body))
		: undefined;
}

describe("tunnelled HTTP requests", () => {
	it("builds the Request with method, path, headers and body", async () => {
		const h = await connected({
			fetch: async (request) =>
				new Response(
					`${request.method} ${new URL(request.url).pathname}${new URL(request.url).search} ${request.headers.get("x-a")} ${await request.text()}`,
				),
		});
		await startActors(h, "a1");
		h.engine.last.push(requestStart("a1", [["x-a", "1"]]));
		await h.engine.until(() => responseBody(h) !== undefined);
		expect(responseBody(h)).toBe("POST /echo?x=1 1 hello");
	});

	it("leaves out a header the Fetch API refuses instead of failing the request", async () => {
		const h = await connected({
			fetch: (request) => {
				const names: string[] = [];
				request.headers.forEach((_value, name) => {
					names.push(name);
				});
				return new Response(names.join(","));
			},
		});
		await startActors(h, "a1");
		h.engine.last.push(
			requestStart("a1", [
				["x-good", "yes"],
				["bad header", "v"],
			]),
		);
		await h.engine.until(() => responseBody(h) !== undefined);
		expect(responseBody(h)).toBe("x-good");
	});

	it("aborts both request.signal and context.signal when the engine aborts the request", async () => {
		const seen = deferred<{ request: AbortSignal; context: AbortSignal }>();
		const h = await connected({
			fetch: (request, ctx) => {
				seen.resolve({ request: request.signal, context: ctx.signal });
				return new Promise<Response>(() => {});
			},
		});
		await startActors(h, "a1");
		h.engine.last.push(requestStart("a1", []));
		const signals = await seen.promise;
		expect(signals.request.aborted).toBe(false);
		expect(signals.context.aborted).toBe(false);
		h.engine.last.push(requestAbort());
		await h.engine.until(() => signals.request.aborted);
		expect(signals.context.aborted).toBe(true);
	});
});
