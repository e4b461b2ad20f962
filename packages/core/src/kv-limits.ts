/**
 * The engine's KV limits, checked before any round trip so that a bad call fails at once with a typed error.
 *
 * @module
 */
import { InvalidArgumentError, KvLimitError } from "./errors.ts";

/** The engine's KV limits (engine 2.3.x). */
export const KV_LIMITS: {
	readonly maxKeyBytes: number;
	readonly maxValueBytes: number;
	readonly maxKeysPerCall: number;
	readonly maxPutPayloadBytes: number;
} = {
	/** Largest key; the engine counts `length + 2` against 2048. */
	maxKeyBytes: 2046,
	/** Largest value: 128 KiB. */
	maxValueBytes: 131_072,
	/** Most keys in one get, put or delete. */
	maxKeysPerCall: 128,
	/** Largest put: Σ(key length + 2) + Σ(value length) ≤ 976 KiB. */
	maxPutPayloadBytes: 999_424,
};

/** Checks that `value` is a `Uint8Array` and returns it. */
export function checkBytes(argument: string, value: unknown): Uint8Array {
	if (!(value instanceof Uint8Array)) {
		throw new InvalidArgumentError(
			argument,
			`must be a Uint8Array, got ${value === null ? "null" : typeof value}`,
		);
	}
	return value;
}

/** Checks one key. */
export function checkKey(argument: string, key: unknown): Uint8Array {
	const bytes = checkBytes(argument, key);
	if (bytes.length > KV_LIMITS.maxKeyBytes) {
		throw new KvLimitError(
			"keySize",
			KV_LIMITS.maxKeyBytes,
			bytes.length,
			`${argument}: key is ${bytes.length} bytes; the engine allows at most ${KV_LIMITS.maxKeyBytes}`,
		);
	}
	return bytes;
}

/** Checks a list of keys (get, delete). */
export function checkKeys(argument: string, keys: unknown): Uint8Array[] {
	if (!Array.isArray(keys)) throw new InvalidArgumentError(argument, "must be an array of Uint8Array keys");
	if (keys.length > KV_LIMITS.maxKeysPerCall) {
		throw new KvLimitError(
			"keyCount",
			KV_LIMITS.maxKeysPerCall,
			keys.length,
			`${argument}: ${keys.length} keys in one call; the engine allows at most ${KV_LIMITS.maxKeysPerCall}`,
		);
	}
	return keys.map((key, i) => checkKey(`${argument}[${i}]`, key));
}

/** Checks the entries of a put and returns them as parallel key and value lists. */
export function checkEntries(
	argument: string,
	entries: unknown,
): { keys: Uint8Array[]; values: Uint8Array[] } {
	if (!Array.isArray(entries))
		throw new InvalidArgumentError(argument, "must be an array of [key, value] pairs");
	if (entries.length > KV_LIMITS.maxKeysPerCall) {
		throw new KvLimitError(
			"keyCount",
			KV_LIMITS.maxKeysPerCall,
			entries.length,
			`${argument}: ${entries.length} entries in one put; the engine allows at most ${KV_LIMITS.maxKeysPerCall}`,
		);
	}
	const keys: Uint8Array[] = [];
	const values: Uint8Array[] = [];
	let payload = 0;
	entries.forEach((entry, i) => {
		if (!Array.isArray(entry) || entry.length !== 2) {
			throw new InvalidArgumentError(`${argument}[${i}]`, "must be a [key, value] pair");
		}
		const key = checkKey(`${argument}[${i}][0]`, entry[0]);
		const value = checkBytes(`${argument}[${i}][1]`, entry[1]);
		if (value.length > KV_LIMITS.maxValueBytes) {
			throw new KvLimitError(
				"valueSize",
				KV_LIMITS.maxValueBytes,
				value.length,
				`${argument}[${i}][1]: value is ${value.length} bytes; the engine allows at most ${KV_LIMITS.maxValueBytes}`,
			);
		}
		payload += key.length + 2 + value.length;
		keys.push(key);
		values.push(value);
	});
	if (payload > KV_LIMITS.maxPutPayloadBytes) {
		throw new KvLimitError(
			"payloadSize",
			KV_LIMITS.maxPutPayloadBytes,
			payload,
			`${argument}: put payload is ${payload} bytes; the engine allows at most ${KV_LIMITS.maxPutPayloadBytes}`,
		);
	}
	return { keys, values };
}

/** Checks a list `limit`. */
export function checkLimit(argument: string, limit: unknown): number | undefined {
	if (limit === undefined) return undefined;
	if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) {
		throw new InvalidArgumentError(argument, `must be a non-negative integer, got ${String(limit)}`);
	}
	return limit;
}
