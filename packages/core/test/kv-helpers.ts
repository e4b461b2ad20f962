import type { KvRequestData, KvResponseData } from "@rivetkit/engine-runner-protocol";
import type { RunnerOptions } from "../src/index.ts";
import type { FakeConnection } from "../src/testing/index.ts";
import { connected, type Harness, kvResponse, startActors } from "./helpers.ts";

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const buf = (s: string): ArrayBuffer => enc(s).slice().buffer;
export const bytes = (b: ArrayBuffer): number[] => [...new Uint8Array(b)];

/** A connected runner hosting actor "a1", with a 5 s KV deadline and no liveness interference. */
export async function withActor(overrides: Partial<RunnerOptions> = {}): Promise<Harness> {
	const h = await connected({ kvTimeoutMs: 5000, livenessTimeoutMs: 3_600_000, ...overrides });
	await startActors(h, "a1");
	return h;
}

/** The newest KV request the runner sent on `conn`. */
export function lastRequest(conn: FakeConnection): {
	requestId: number;
	actorId: string;
	data: KvRequestData;
} {
	const request = conn.sent("ToServerKvRequest").at(-1);
	if (!request) throw new Error("no KV request sent");
	return request;
}

/** Answers the newest KV request on `conn`. */
export function answer(conn: FakeConnection, data: KvResponseData): void {
	conn.push(kvResponse(lastRequest(conn).requestId, data));
}

export const OK_LIST: KvResponseData = { tag: "KvListResponse", val: { keys: [], values: [], metadata: [] } };
