/**
 * Checks for runner options: numbers in range, names, the endpoint URL, tokens, hibernation options. Each failure is an
 * {@link InvalidArgumentError} naming the option.
 *
 * @module
 */
import type { RunnerOptions } from "./config.ts";
import { InvalidArgumentError } from "./errors.ts";

/** Throws the configuration error for `argument`. */
export function fail(argument: string, message: string): never {
	throw new InvalidArgumentError(argument, message, "INVALID_CONFIG");
}

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Message for a token that cannot travel in a WebSocket subprotocol (it never repeats the token). */
export const TOKEN_CHARS_MESSAGE =
	"contains characters a WebSocket subprotocol cannot carry (allowed: letters, digits and !#$%&'*+-.^_`|~)";

/** Whether `token` can travel as the `rivet_token.<token>` subprotocol (an RFC 7230 token). */
export function isSubprotocolToken(token: string): boolean {
	return TOKEN_CHARS.test(token);
}

/** Checks that `value` is a finite number within bounds, and returns it. */
export function checkNumber(
	argument: string,
	value: unknown,
	min: number,
	max: number,
	integer = true,
): number {
	if (typeof value !== "number" || !Number.isFinite(value))
		fail(argument, `must be a finite number, got ${typeof value === "number" ? value : typeof value}`);
	if (integer && !Number.isInteger(value)) fail(argument, `must be an integer, got ${value}`);
	if (value < min || value > max) fail(argument, `must be between ${min} and ${max}, got ${value}`);
	return value;
}

/** Like {@link checkNumber}, with a default when the value is undefined. */
export function optionalNumber(
	argument: string,
	value: unknown,
	fallback: number,
	min: number,
	max: number,
): number {
	return value === undefined ? fallback : checkNumber(argument, value, min, max);
}

/** Checks a non-empty name of at most 1024 characters. */
export function checkName(argument: string, value: unknown): string {
	if (typeof value !== "string" || value.length === 0) fail(argument, "must be a non-empty string");
	if (value.length > 1024) fail(argument, "must be at most 1024 characters");
	return value;
}

/** Parses the engine endpoint: an http(s) or ws(s) URL without credentials. */
export function parseEndpoint(value: unknown): URL {
	if (typeof value !== "string" || value.length === 0) fail("endpoint", "must be a non-empty URL string");
	let url: URL;
	try {
		url = new URL(value);
	} catch {
		return fail("endpoint", `is not a valid URL: ${JSON.stringify(value)}`);
	}
	if (!["http:", "https:", "ws:", "wss:"].includes(url.protocol)) {
		fail("endpoint", `must use http, https, ws or wss, got ${url.protocol.replace(":", "")}`);
	}
	if (url.username || url.password) fail("endpoint", "must not carry credentials; use the token option");
	return url;
}

/** Checks the hibernation options. */
export function checkHibernation(hibernation: RunnerOptions["hibernation"]): void {
	if (hibernation === undefined) return;
	if (typeof hibernation !== "object" || hibernation === null) fail("hibernation", "must be an object");
	const { store, commit, gapPolicy, persistDebounceMs, resyncHoldMs, unlistedGraceMs } = hibernation;
	if (
		store !== undefined &&
		store !== "kv" &&
		store !== false &&
		(typeof store !== "object" || store === null)
	) {
		fail("hibernation.store", `must be "kv", false or a HibernationStore`);
	}
	if (typeof store === "object" && store !== null) {
		for (const method of ["load", "save", "updateIndex", "remove"] as const) {
			if (typeof store[method] !== "function") fail(`hibernation.store.${method}`, "must be a function");
		}
	}
	if (commit !== undefined && commit !== "auto" && commit !== "manual")
		fail("hibernation.commit", `must be "auto" or "manual"`);
	if (gapPolicy !== undefined && !["close", "accept", "resync"].includes(gapPolicy)) {
		fail("hibernation.gapPolicy", `must be "close", "accept" or "resync"`);
	}
	if (persistDebounceMs !== undefined)
		checkNumber("hibernation.persistDebounceMs", persistDebounceMs, 0, 3_600_000);
	if (resyncHoldMs !== undefined) checkNumber("hibernation.resyncHoldMs", resyncHoldMs, 0, 3_600_000);
	if (unlistedGraceMs !== undefined)
		checkNumber("hibernation.unlistedGraceMs", unlistedGraceMs, 0, 3_600_000);
}
