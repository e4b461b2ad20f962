/**
 * Where hibernatable sockets are remembered while their actor sleeps. The default keeps them in the actor's own
 * engine KV under a reserved prefix; a custom {@link HibernationStore} can replace it.
 *
 * KV layout (all keys start with the reserved prefix `\0runner\0ws\0`):
 *   `…m` + gatewayId(4) + requestId(4) → JSON `{ path, headers }`, written when the socket opens
 *   `…i` + gatewayId(4) + requestId(4) → u16 big-endian: the last client message index processed
 *
 * @module
 */
import { concatBytes, fromHex, utf8Decode, utf8Encode } from "../bytes.ts";
import type { KvEntry } from "../kv.ts";

/** The reserved KV prefix of the runner's own keys. User keys must not start with it. */
export const RESERVED_KV_PREFIX: Uint8Array = utf8Encode("\u0000runner\u0000");

const WS_PREFIX = concatBytes([RESERVED_KV_PREFIX, utf8Encode("ws\u0000")]);
const META = 0x6d;
const INDEX = 0x69;

/** What is kept for one hibernatable socket. */
export interface StoredSocket {
	/** Gateway id, lowercase hex. */
	readonly gatewayId: string;
	/** Request id, lowercase hex. */
	readonly requestId: string;
	/** Request path (with query). */
	readonly path: string;
	/** Request headers. */
	readonly headers: Record<string, string>;
	/** Last client message index processed (u16). */
	readonly index: number;
}

/** Persistence of hibernatable sockets. All methods may be called concurrently for different sockets. */
export interface HibernationStore {
	/** Every socket stored for the actor. */
	load(actorId: string): Promise<StoredSocket[]>;
	/** Stores a new socket. */
	save(actorId: string, socket: StoredSocket): Promise<void>;
	/** Records the last processed message index. */
	updateIndex(actorId: string, gatewayId: string, requestId: string, index: number): Promise<void>;
	/** Forgets a socket. */
	remove(actorId: string, gatewayId: string, requestId: string): Promise<void>;
	/**
	 * Applies `entries` to the actor's KV and records `index`, atomically. Without it, `commit` writes the entries and
	 * then the index in two steps (not atomic).
	 */
	commit?(
		actorId: string,
		gatewayId: string,
		requestId: string,
		index: number,
		entries: KvEntry[],
	): Promise<void>;
}

/** The KV calls the default store uses. */
export interface KvAccess {
	kvListPrefix(actorId: string, prefix: Uint8Array): Promise<KvEntry[]>;
	kvPut(actorId: string, entries: KvEntry[]): Promise<void>;
	kvDelete(actorId: string, keys: Uint8Array[]): Promise<void>;
}

function key(kind: number, gatewayId: string, requestId: string): Uint8Array {
	return concatBytes([WS_PREFIX, new Uint8Array([kind]), fromHex(gatewayId), fromHex(requestId)]);
}

function indexValue(index: number): Uint8Array {
	return new Uint8Array([(index >> 8) & 0xff, index & 0xff]);
}

function hexOf(bytes: Uint8Array): string {
	let out = "";
	for (const b of bytes) out += b.toString(16).padStart(2, "0");
	return out;
}

/** The default store: the actor's own engine KV. */
export function createKvHibernationStore(kv: KvAccess): HibernationStore {
	return {
		async load(actorId) {
			const entries = await kv.kvListPrefix(actorId, WS_PREFIX);
			const metas = new Map<string, { path: string; headers: Record<string, string> }>();
			const indices = new Map<string, number>();
			for (const [k, value] of entries) {
				const kind = k[WS_PREFIX.length];
				const id = hexOf(k.subarray(WS_PREFIX.length + 1));
				if (id.length !== 16) continue;
				if (kind === META) {
					try {
						const parsed = JSON.parse(utf8Decode(value)) as { path?: unknown; headers?: unknown };
						if (typeof parsed.path === "string")
							metas.set(id, { path: parsed.path, headers: (parsed.headers ?? {}) as Record<string, string> });
					} catch {
						// An unreadable entry is skipped; its socket is then closed as unknown.
					}
				} else if (kind === INDEX && value.length === 2) {
					indices.set(id, (value[0]! << 8) | value[1]!);
				}
			}
			return [...metas].map(([id, meta]) => ({
				gatewayId: id.slice(0, 8),
				requestId: id.slice(8),
				path: meta.path,
				headers: meta.headers,
				index: indices.get(id) ?? 0,
			}));
		},
		save(actorId, socket) {
			const meta = utf8Encode(JSON.stringify({ path: socket.path, headers: socket.headers }));
			return kv.kvPut(actorId, [
				[key(META, socket.gatewayId, socket.requestId), meta],
				[key(INDEX, socket.gatewayId, socket.requestId), indexValue(socket.index)],
			]);
		},
		updateIndex(actorId, gatewayId, requestId, index) {
			return kv.kvPut(actorId, [[key(INDEX, gatewayId, requestId), indexValue(index)]]);
		},
		remove(actorId, gatewayId, requestId) {
			return kv.kvDelete(actorId, [key(META, gatewayId, requestId), key(INDEX, gatewayId, requestId)]);
		},
		commit(actorId, gatewayId, requestId, index, entries) {
			return kv.kvPut(actorId, [...entries, [key(INDEX, gatewayId, requestId), indexValue(index)]]);
		},
	};
}

/** The store the `hibernation.store` option asks for: the KV default, a custom one, or undefined (persistence off). */
export function chooseHibernationStore(
	option: "kv" | HibernationStore | false | undefined,
	kv: KvAccess,
): HibernationStore | undefined {
	if (option === false) return undefined;
	return option === undefined || option === "kv" ? createKvHibernationStore(kv) : option;
}
