import { describe, expect, it } from "vitest";
import { utf8Decode } from "../src/index.ts";
import { connected, startActors } from "./helpers.ts";

function requestStart(actorId: string, method = "GET") {
	return {
		tag: "ToClientTunnelMessage" as const,
		val: {
			messageId: {
				gatewayId: new Uint8Array([1, 2, 3, 4]).buffer,
				requestId: new Uint8Array([5, 6, 7, 8]).buffer,
				messageIndex: 0,
			},
			messageKind: {
				tag: "ToClientRequestStart" as const,
				val: {
					actorId,
					method,
					path: "/events",
					headers: new Map<string, string>(),
					body: null,
					stream: false,
				},
			},
		},
	};
}

describe("streaming responses (streamResponses option)", () => {
	it("sends a streamed start, one chunk per body chunk, then a finishing chunk", async () => {
		const h = await connected({
			streamResponses: true,
			fetch: () =>
				new Response(
					new ReadableStream<Uint8Array>({
						start(controller) {
							controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
							controller.enqueue(new TextEncoder().encode("data: 2\n\n"));
							controller.close();
						},
					}),
					{ headers: { "content-type": "text/event-stream" } },
				),
		});
		await startActors(h, "a1");
		h.engine.last.push(requestStart("a1"));
		await h.engine.until(() =>
			h.engine.last
				.sent("ToServerTunnelMessage")
				.some((m) => m.messageKind.tag === "ToServerResponseChunk" && m.messageKind.val.finish),
		);
		const kinds = h.engine.last.sent("ToServerTunnelMessage").map((m) => m.messageKind);
		expect(kinds[0]).toMatchObject({
			tag: "ToServerResponseStart",
			val: { status: 200, body: null, stream: true },
		});
		const chunks = kinds.slice(1).map((k) => (k.tag === "ToServerResponseChunk" ? k.val : undefined));
		expect(chunks.map((c) => (c ? utf8Decode(new Uint8Array(c.body)) : "?"))).toEqual([
			"data: 1\n\n",
			"data: 2\n\n",
			"",
		]);
		expect(chunks.map((c) => c?.finish)).toEqual([false, false, true]);
		const indices = h.engine.last.sent("ToServerTunnelMessage").map((m) => m.messageId.messageIndex);
		expect(indices).toEqual([0, 1, 2, 3]);
	});

	it("ends with ToServerResponseAbort when the body fails midway, and reports it", async () => {
		const h = await connected({
			streamResponses: true,
			fetch: () =>
				new Response(
					new ReadableStream<Uint8Array>({
						pull(controller) {
							controller.error(new Error("source broke"));
						},
					}),
				),
		});
		await startActors(h, "a1");
		h.engine.last.push(requestStart("a1"));
		await h.engine.until(() =>
			h.engine.last.sent("ToServerTunnelMessage").some((m) => m.messageKind.tag === "ToServerResponseAbort"),
		);
		expect(h.errors.some((e) => e.code === "HANDLER_ERROR" && e.message.includes("source broke"))).toBe(true);
	});

	it("buffers by default: one ToServerResponseStart with the whole body", async () => {
		const h = await connected({ fetch: () => new Response("whole") });
		await startActors(h, "a1");
		h.engine.last.push(requestStart("a1"));
		await h.engine.until(() => h.engine.last.sent("ToServerTunnelMessage").length > 0);
		const [reply] = h.engine.last.sent("ToServerTunnelMessage");
		expect(reply?.messageKind).toMatchObject({ tag: "ToServerResponseStart", val: { stream: false } });
	});
});
