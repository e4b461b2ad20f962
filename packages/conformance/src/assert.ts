/**
 * Tiny assertion helpers, so the suite depends on no test framework. Each throws an {@link AssertionError} with the
 * label and both values.
 *
 * @module
 */

/** A failed conformance assertion. */
export class AssertionError extends Error {
	override name = "AssertionError";
}

/** Renders a value for a failure message (bigints, bytes and nested values included). */
export function show(value: unknown): string {
	if (value instanceof Uint8Array) {
		const head = [...value.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
		return `Uint8Array(${value.length})[${head}${value.length > 16 ? "…" : ""}]`;
	}
	if (typeof value === "bigint") return `${value}n`;
	if (typeof value === "string")
		return JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
	try {
		const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
		return text === undefined ? String(value) : text.length > 600 ? `${text.slice(0, 600)}…` : text;
	} catch {
		return String(value);
	}
}

/** Structural equality: primitives (Object.is), arrays, byte arrays and plain objects. */
export function deepEqual(a: unknown, b: unknown): boolean {
	if (Object.is(a, b)) return true;
	if (a instanceof Uint8Array || b instanceof Uint8Array) {
		if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
		for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
		return true;
	}
	if (Array.isArray(a) || Array.isArray(b)) {
		if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
		return a.every((item, i) => deepEqual(item, b[i]));
	}
	if (typeof a === "object" && typeof b === "object" && a !== null && b !== null) {
		const ka = Object.keys(a);
		const kb = Object.keys(b);
		if (ka.length !== kb.length) return false;
		const ra = a as Record<string, unknown>;
		const rb = b as Record<string, unknown>;
		return ka.every((key) => Object.hasOwn(rb, key) && deepEqual(ra[key], rb[key]));
	}
	return false;
}

/** Fails with `message`. */
export function fail(message: string): never {
	throw new AssertionError(message);
}

/** Fails unless `condition` is truthy. */
export function assert(condition: unknown, message: string): asserts condition {
	if (!condition) fail(message);
}

/** Fails unless `actual` deep-equals `expected`. */
export function assertEquals(actual: unknown, expected: unknown, label: string): void {
	if (!deepEqual(actual, expected)) fail(`${label}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Fails unless `text` is a string matching `pattern`. */
export function assertMatch(text: unknown, pattern: RegExp, label: string): void {
	if (typeof text !== "string" || !pattern.test(text))
		fail(`${label}: expected to match ${pattern}, got ${show(text)}`);
}

/** Fails unless `actual` ≥ `min` (and ≤ `max` when given). */
export function assertBetween(actual: number, min: number, max: number, label: string): void {
	if (!(actual >= min && actual <= max)) fail(`${label}: expected ${min} ≤ value ≤ ${max}, got ${actual}`);
}

/** Runs `fn` and returns what it threw (synchronously or by rejecting); fails when it succeeds. */
export async function captureError(fn: () => unknown, label: string): Promise<unknown> {
	let result: unknown;
	try {
		result = await fn();
	} catch (error) {
		return error;
	}
	return fail(`${label}: expected an error, got ${show(result)}`);
}

/** A property of an error (or other object), or undefined. */
export function prop(value: unknown, name: string): unknown {
	return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[name] : undefined;
}
