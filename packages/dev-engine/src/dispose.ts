/**
 * `Symbol.asyncDispose`, or `Symbol.for("Symbol.asyncDispose")` on runtimes that lack it (the key
 * TypeScript's `await using` down-level helpers and common polyfills agree on).
 */
export const asyncDisposeSymbol: typeof Symbol.asyncDispose = ((Symbol as { asyncDispose?: symbol })
	.asyncDispose ?? Symbol.for("Symbol.asyncDispose")) as typeof Symbol.asyncDispose;
