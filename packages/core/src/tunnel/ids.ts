/**
 * Request keys and u16 message-index arithmetic.
 *
 * @module
 */
import { toHex } from "../bytes.ts";

/** A (gateway id, request id) pair as one map key: 16 hex characters. */
export function requestKey(gatewayId: ArrayBuffer, requestId: ArrayBuffer): string {
	return toHex(gatewayId) + toHex(requestId);
}

/** The next u16 index after `index`, wrapping 65535 → 0. */
export function nextIndex(index: number): number {
	return (index + 1) & 0xffff;
}

/** Whether `a` comes after `b` in wrapping u16 order (a half-range apart counts as neither). */
export function indexAfter(a: number, b: number): boolean {
	const distance = (a - b) & 0xffff;
	return distance !== 0 && distance < 0x8000;
}
