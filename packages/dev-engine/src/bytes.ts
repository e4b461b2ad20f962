/** Converts a string (UTF-8 encoded) or bytes into bytes. */
export function toBytes(value: Uint8Array | string): Uint8Array {
	return typeof value === "string" ? new TextEncoder().encode(value) : value;
}

/** Standard base64 (with padding) of a string (UTF-8) or bytes. */
export function toBase64(value: Uint8Array | string): string {
	const bytes = toBytes(value);
	let binary = "";
	for (let i = 0; i < bytes.length; i += 0x8000) {
		binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
	}
	return btoa(binary);
}

/** Decodes standard base64 into bytes. */
export function fromBase64(value: string): Uint8Array {
	const binary = atob(value);
	const bytes = new Uint8Array(binary.length);
	for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
	return bytes;
}
