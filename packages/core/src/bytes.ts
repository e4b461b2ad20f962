/**
 * Byte helpers on `Uint8Array` and `ArrayBuffer`, so the core never needs `Buffer`.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 encodes a string. */
export function utf8Encode(text: string): Uint8Array {
	return encoder.encode(text);
}

/** UTF-8 decodes bytes (invalid sequences become U+FFFD). */
export function utf8Decode(bytes: Uint8Array | ArrayBuffer): string {
	return decoder.decode(bytes);
}

/** True for `ArrayBuffer` and every typed array or `DataView`. */
export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView {
	return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

/** A view of the same bytes (no copy) for `ArrayBuffer`, typed arrays and `DataView`s. */
export function asUint8Array(value: ArrayBuffer | ArrayBufferView): Uint8Array {
	if (value instanceof Uint8Array) return value;
	if (value instanceof ArrayBuffer) return new Uint8Array(value);
	return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * An `ArrayBuffer` holding exactly these bytes. Returns the underlying buffer when the view covers all of it,
 * otherwise a copy. Never returns a `SharedArrayBuffer`.
 */
export function toArrayBuffer(value: ArrayBuffer | ArrayBufferView): ArrayBuffer {
	if (value instanceof ArrayBuffer) return value;
	const { buffer, byteOffset, byteLength } = value;
	if (buffer instanceof ArrayBuffer && byteOffset === 0 && byteLength === buffer.byteLength) return buffer;
	return new Uint8Array(buffer, byteOffset, byteLength).slice().buffer;
}

/** Lowercase hex of the bytes, e.g. for gateway and request ids. */
export function toHex(value: ArrayBuffer | ArrayBufferView): string {
	const bytes = asUint8Array(value);
	let out = "";
	for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]!;
	return out;
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Parses lowercase or uppercase hex into bytes; throws `TypeError` on odd length or a bad digit. */
export function fromHex(hex: string): Uint8Array {
	if (hex.length % 2 !== 0) throw new TypeError("hex string must have an even length");
	const out = new Uint8Array(hex.length / 2);
	for (let i = 0; i < out.length; i++) {
		const byte = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
		if (Number.isNaN(byte)) throw new TypeError(`invalid hex digit near offset ${i * 2}`);
		out[i] = byte;
	}
	return out;
}

/** Byte-wise equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
	return true;
}

/** Unsigned lexicographic comparison, the order the engine keeps KV keys in. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
	const n = Math.min(a.length, b.length);
	for (let i = 0; i < n; i++) {
		const d = a[i]! - b[i]!;
		if (d !== 0) return d;
	}
	return a.length - b.length;
}

/** Concatenates byte arrays. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
	let total = 0;
	for (const p of parts) total += p.length;
	const out = new Uint8Array(total);
	let offset = 0;
	for (const p of parts) {
		out.set(p, offset);
		offset += p.length;
	}
	return out;
}

/** Standard base64 (with padding) of the bytes. */
export function toBase64(value: Uint8Array): string {
	let binary = "";
	const chunk = 0x8000;
	for (let i = 0; i < value.length; i += chunk) {
		binary += String.fromCharCode(...value.subarray(i, i + chunk));
	}
	return btoa(binary);
}

/** Decodes standard base64. */
export function fromBase64(text: string): Uint8Array {
	const binary = atob(text);
	const out = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
	return out;
}

/**
 * Normalises what a WebSocket `message` event carries into bytes or a string. `Blob` needs an async read, so it is
 * returned as a promise; everything else is synchronous.
 */
export function readSocketData(data: unknown): Uint8Array | string | Promise<Uint8Array> | null {
	if (typeof data === "string") return data;
	if (isBinary(data)) return asUint8Array(data);
	if (typeof Blob !== "undefined" && data instanceof Blob) {
		return data.arrayBuffer().then((buffer) => new Uint8Array(buffer));
	}
	return null;
}
