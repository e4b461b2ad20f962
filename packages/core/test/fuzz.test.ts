import { encodeToClient, type ToClient } from "@rivetkit/engine-runner-protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FakeConnection } from "../src/testing/index.ts";
import { harness } from "./helpers.ts";

/** A small seeded PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

const ids = (n: number): ArrayBuffer => new Uint8Array([n & 0xff, (n >> 8) & 0xff, 7, 9]).buffer;

function start(actorId: string, generation: number, index: bigint): ToClient {
	return {
		tag: "ToClientCommands",
		val: [
			{
				checkpoint: { actorId, generation, index },
				inner: {
					tag: "CommandStartActor",
					val: { config: { name: "fuzz", key: null, createTs: 1n, input: null }, hibernatingRequests: [] },
				},
			},
		],
	};
}

function stop(actorId: string, generation: number, index: bigint): ToClient {
	return {
		tag: "ToClientCommands",
		val: [{ checkpoint: { actorId, generation, index }, inner: { tag: "CommandStopActor", val: null } }],
	};
}

function request(actorId: string, n: number, headers: Map<string, string> = new Map()): ToClient {
	return {
		tag: "ToClientTunnelMessage",
		val: {
			messageId: { gatewayId: ids(n), requestId: ids(n + 1), messageIndex: 0 },
			messageKind: {
				tag: "ToClientRequestStart",
				val: { actorId, method: "GET", path: `/r/${n}`, headers, body: null, stream: false },
			},
		},
	};
}

/** Valid frames that make no sense: unknown actors, stop before start, replays, gaps, huge header maps. */
function nonsense(random: () => number, n: number): ToClient {
	const pick = Math.floor(random() * 9);
	const ghost = `ghost-${Math.floor(random() * 50)}`;
	switch (pick) {
		case 0:
			return stop(ghost, Math.floor(random() * 3), BigInt(Math.floor(random() * 5)));
		case 1:
			return start("steady", 0, 0n);
		case 2:
			return request(ghost, n);
		case 3: {
			const headers = new Map<string, string>();
			for (let i = 0; i < 2000; i++) headers.set(`x-h-${i}`, "v".repeat(20));
			return request("steady", n, headers);
		}
		case 4:
			return {
				tag: "ToClientKvResponse",
				val: { requestId: Math.floor(random() * 1e9), data: { tag: "KvPutResponse", val: null } },
			};
		case 5:
			return {
				tag: "ToClientAckEvents",
				val: { lastEventCheckpoints: [{ actorId: ghost, generation: 9, index: 1_000_000n }] },
			};
		case 6:
			return {
				tag: "ToClientTunnelMessage",
				val: {
					messageId: { gatewayId: ids(n), requestId: ids(n), messageIndex: Math.floor(random() * 65536) },
					messageKind: {
						tag: "ToClientWebSocketMessage",
						val: { data: new Uint8Array([1, 2, 3]).buffer, binary: true },
					},
				},
			};
		case 7:
			return {
				tag: "ToClientTunnelMessage",
				val: {
					messageId: { gatewayId: ids(n), requestId: ids(n), messageIndex: 0 },
					messageKind: { tag: "ToClientRequestAbort", val: null },
				},
			};
		default:
			return { tag: "ToClientPing", val: { ts: BigInt(Math.floor(random() * 1e12)) } };
	}
}

/** Bytes that are not a frame: random, truncated, or text. */
function garbage(random: () => number, valid: Uint8Array): Uint8Array | string {
	const pick = Math.floor(random() * 3);
	if (pick === 0) return "text frames are not allowed";
	if (pick === 1) return valid.subarray(0, Math.max(1, Math.floor(valid.length * random()) - 1));
	const bytes = new Uint8Array(Math.floor(random() * 64) + 1);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
	bytes[0] = 0xf0 | bytes[0]!;
	return bytes;
}

describe("fuzz: hostile frames from a fake engine", () => {
	const failures: unknown[] = [];
	const onFailure = (error: unknown): void => void failures.push(error);
	beforeEach(() => {
		process.on("unhandledRejection", onFailure);
		process.on("uncaughtException", onFailure);
	});
	afterEach(() => {
		process.off("unhandledRejection", onFailure);
		process.off("uncaughtException", onFailure);
	});

	it("survives 10,000 malformed, truncated, oversized and nonsensical frames and keeps serving", async () => {
		const random = prng(20261203);
		const h = harness({
			fetch: (req) => new Response(`ok ${new URL(req.url).pathname}`),
			livenessTimeoutMs: 3_600_000,
		});
		await h.runner.start();
		let conn: FakeConnection = h.engine.last;
		conn.push(start("steady", 0, 0n));
		await h.clock.advance(0);
		const counts = { garbage: 0, nonsense: 0, served: 0, reconnects: 0 };
		const sample = encodeToClient(start("steady", 0, 0n));
		for (let n = 0; n < 10_000; n++) {
			if (random() < 0.3) {
				counts.garbage++;
				conn.pushRaw(garbage(random, sample));
				await h.clock.advance(1_500);
				await h.engine.until(() => h.engine.last !== conn && h.runner.connected);
				conn = h.engine.last;
				counts.reconnects++;
			} else {
				counts.nonsense++;
				conn.push(nonsense(random, n * 2));
			}
			if (n % 250 === 0) {
				const before = conn.sent("ToServerTunnelMessage").length;
				conn.push(request("steady", 60_000 + n));
				await h.engine.until(() => conn.sent("ToServerTunnelMessage").length > before);
				const reply = conn.sent("ToServerTunnelMessage").at(-1)!;
				expect(reply.messageKind.tag).toBe("ToServerResponseStart");
				if (reply.messageKind.tag === "ToServerResponseStart") expect(reply.messageKind.val.status).toBe(200);
				counts.served++;
			}
			if (n % 50 === 0) await h.clock.advance(0);
		}
		await h.clock.advance(0);
		console.log(`fuzz counts: ${JSON.stringify(counts)}, errors reported to onError: ${h.errors.length}`);
		expect(counts.garbage + counts.nonsense).toBe(10_000);
		expect(counts.served).toBe(40);
		expect(h.runner.hasActor("steady")).toBe(true);
		expect(h.errors.filter((e) => e.code === "PROTOCOL_ERROR").length).toBe(counts.garbage);
		expect(failures).toEqual([]);
		await h.runner.shutdown({ mode: "immediate" });
	}, 120_000);
});
