import net from "node:net";

/**
 * A loopback TCP proxy that can cut the connection in two ways: `drop` destroys every connection and refuses new
 * ones; `stall` keeps connections open but stops forwarding bytes (new ones are held, never forwarded). `restore`
 * lets new connections through again.
 */
export class CutProxy {
	mode: "pass" | "drop" | "stall" = "pass";
	readonly #server: net.Server;
	readonly #pairs = new Set<{ client: net.Socket; upstream: net.Socket | undefined }>();
	readonly #target: { host: string; port: number };

	constructor(target: { host: string; port: number }) {
		this.#target = target;
		this.#server = net.createServer((client) => this.#accept(client));
	}

	async listen(): Promise<number> {
		await new Promise<void>((resolve) => this.#server.listen(0, "127.0.0.1", resolve));
		return (this.#server.address() as net.AddressInfo).port;
	}

	drop(): void {
		this.mode = "drop";
		for (const pair of this.#pairs) this.#destroy(pair);
	}

	stall(): void {
		this.mode = "stall";
		for (const pair of this.#pairs) {
			pair.client.unpipe();
			pair.upstream?.unpipe();
			pair.client.pause();
			pair.upstream?.pause();
		}
	}

	/** New connections pass again; stalled ones stay dead (as after a real outage) and are closed. */
	restore(): void {
		for (const pair of this.#pairs) this.#destroy(pair);
		this.mode = "pass";
	}

	async close(): Promise<void> {
		for (const pair of this.#pairs) this.#destroy(pair);
		await new Promise<void>((resolve) => this.#server.close(() => resolve()));
	}

	#accept(client: net.Socket): void {
		client.on("error", () => {});
		if (this.mode === "drop") {
			client.destroy();
			return;
		}
		const pair: { client: net.Socket; upstream: net.Socket | undefined } = { client, upstream: undefined };
		this.#pairs.add(pair);
		client.on("close", () => this.#destroy(pair));
		if (this.mode === "stall") {
			client.pause();
			return;
		}
		const upstream = net.connect(this.#target);
		pair.upstream = upstream;
		upstream.on("error", () => {});
		upstream.on("close", () => this.#destroy(pair));
		client.pipe(upstream);
		upstream.pipe(client);
	}

	#destroy(pair: { client: net.Socket; upstream: net.Socket | undefined }): void {
		this.#pairs.delete(pair);
		pair.client.destroy();
		pair.upstream?.destroy();
	}
}
