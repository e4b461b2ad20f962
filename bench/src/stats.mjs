/**
 * Summaries of repeated measurements, and how the report prints a number.
 *
 * @module
 */

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values) {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Median, min and max of the finite values in `values`; null when there are none.
 * @param {Array<number | null | undefined>} values
 * @returns {{ median: number, min: number, max: number, n: number } | null}
 */
export function summarize(values) {
	const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
	if (finite.length === 0) return null;
	return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length };
}

/** A number with a sensible number of decimals; "—" when there is none. */
export function fmt(value) {
	if (value === null || value === undefined || !Number.isFinite(value)) return "—";
	const abs = Math.abs(value);
	const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
	return value.toFixed(digits);
}
