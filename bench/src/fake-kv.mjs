/**
 * The in-memory actor KV of the protocol fake engine (`fake-engine.mjs`): answers every `KvRequestData` kind of
 * runner protocol v7 (get, list all/range/prefix with reverse and limit, put, delete, delete range, drop) with the
 * matching `KvResponseData`. Keys are compared byte-wise, like the engine's.
 *
 * @module
 */

/** A byte-ordered string form of a key: latin1 keeps one char per byte, so string order is byte order. */
const keyString = (buffer) => Buffer.from(buffer).toString("latin1");

const METADATA = { version: new ArrayBuffer(0), updateTs: 0n };

/** One KV store per actor. */
export class FakeKv {
	/** actorId → (key string → { key, value, updateTs }) */
	#actors = new Map();

	/** Entries held for an actor. */
	size(actorId) {
		return this.#actors.get(actorId)?.size ?? 0;
	}

	/** Entries held for all actors. */
	totalSize() {
		let total = 0;
		for (const store of this.#actors.values()) total += store.size;
		return total;
	}

	#store(actorId) {
		let store = this.#actors.get(actorId);
		if (!store) {
			store = new Map();
			this.#actors.set(actorId, store);
		}
		return store;
	}

	/** Entries in key order, filtered by `match(keyString)`. */
	#sorted(actorId, match) {
		const store = this.#actors.get(actorId);
		if (!store) return [];
		const out = [];
		for (const [k, entry] of store) if (match(k)) out.push([k, entry]);
		out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return out.map(([, entry]) => entry);
	}

	/**
	 * Handles one request.
	 * @param {string} actorId
	 * @param {import("@rivetkit/engine-runner-protocol").KvRequestData} data
	 * @returns {import("@rivetkit/engine-runner-protocol").KvResponseData}
	 */
	handle(actorId, data) {
		switch (data.tag) {
			case "KvGetRequest": {
				const store = this.#actors.get(actorId);
				const found = data.val.keys.map((key) => store?.get(keyString(key))).filter(Boolean);
				return { tag: "KvGetResponse", val: entries(found) };
			}
			case "KvListRequest": {
				const { query, reverse, limit } = data.val;
				let list = this.#sorted(actorId, matcher(query));
				if (reverse) list.reverse();
				if (limit !== null) list = list.slice(0, Number(limit));
				return { tag: "KvListResponse", val: entries(list) };
			}
			case "KvPutRequest": {
				const { keys, values } = data.val;
				if (keys.length !== values.length)
					return { tag: "KvErrorResponse", val: { message: "keys and values differ in length" } };
				const store = this.#store(actorId);
				const updateTs = BigInt(Date.now());
				keys.forEach((key, i) => {
					store.set(keyString(key), { key: key.slice(0), value: values[i].slice(0), updateTs });
				});
				return { tag: "KvPutResponse", val: null };
			}
			case "KvDeleteRequest": {
				const store = this.#actors.get(actorId);
				for (const key of data.val.keys) store?.delete(keyString(key));
				return { tag: "KvDeleteResponse", val: null };
			}
			case "KvDeleteRangeRequest": {
				const store = this.#actors.get(actorId);
				const start = keyString(data.val.start);
				const end = keyString(data.val.end);
				for (const k of [...(store?.keys() ?? [])]) if (k >= start && k < end) store.delete(k);
				return { tag: "KvDeleteResponse", val: null };
			}
			case "KvDropRequest":
				this.#actors.delete(actorId);
				return { tag: "KvDropResponse", val: null };
			default:
				return { tag: "KvErrorResponse", val: { message: `unsupported KV request ${data.tag}` } };
		}
	}
}

/** A predicate over key strings for a list query. */
function matcher(query) {
	switch (query.tag) {
		case "KvListAllQuery":
			return () => true;
		case "KvListPrefixQuery": {
			const prefix = keyString(query.val.key);
			return (k) => k.startsWith(prefix);
		}
		case "KvListRangeQuery": {
			const start = keyString(query.val.start);
			const end = keyString(query.val.end);
			return query.val.exclusive ? (k) => k >= start && k < end : (k) => k >= start && k <= end;
		}
		default:
			throw new Error(`unsupported list query ${query.tag}`);
	}
}

/** The `{ keys, values, metadata }` of a get or list answer. */
function entries(list) {
	return {
		keys: list.map((e) => e.key),
		values: list.map((e) => e.value),
		metadata: list.map((e) => ({ ...METADATA, updateTs: e.updateTs })),
	};
}
