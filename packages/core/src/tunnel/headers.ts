/**
 * Response headers into the protocol's header map (a string → string map).
 *
 * The map cannot hold one name twice, so repeated headers are joined with `, ` as HTTP allows, except `Set-Cookie`,
 * whose values cannot be joined. Each extra `Set-Cookie` goes under a differently-cased spelling of the name
 * (`set-cookie`, `Set-cookie`, `sEt-cookie`, …): the map sees distinct keys and HTTP treats names case-insensitively,
 * so every cookie reaches the client as its own header.
 *
 * @module
 */

/** Converts `Headers` to the protocol map, keeping every `Set-Cookie`. */
export function toHeaderMap(headers: Headers): Map<string, string> {
	const out = new Map<string, string>();
	headers.forEach((value, name) => {
		if (name !== "set-cookie") out.set(name, value);
	});
	const cookies =
		typeof headers.getSetCookie === "function"
			? headers.getSetCookie()
			: splitFallback(headers.get("set-cookie"));
	cookies.forEach((cookie, i) => {
		out.set(caseVariant("set-cookie", i), cookie);
	});
	return out;
}

/** The `i`-th distinct spelling of `name` (i = 0 is the name itself), flipping letter case in binary order. */
export function caseVariant(name: string, i: number): string {
	const letters: number[] = [];
	for (let p = 0; p < name.length; p++) if (/[a-z]/i.test(name[p]!)) letters.push(p);
	if (i >= 2 ** letters.length)
		throw new RangeError(`no more than ${2 ** letters.length} spellings of ${name}`);
	const chars = name.toLowerCase().split("");
	letters.forEach((position, bit) => {
		if ((i >> bit) & 1) chars[position] = chars[position]!.toUpperCase();
	});
	return chars.join("");
}

function splitFallback(value: string | null): string[] {
	return value === null ? [] : [value];
}
