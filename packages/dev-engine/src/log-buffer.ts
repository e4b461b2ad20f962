/** Keeps the last `capacity` lines of the engine's output. */
export class LogRing {
	private readonly lines: string[] = [];

	/** @param capacity Number of lines kept. Default: 200. */
	constructor(private readonly capacity = 200) {}

	/** Appends one line, dropping the oldest when full. */
	push(line: string): void {
		this.lines.push(line);
		if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity);
	}

	/** The last `count` lines (default: all kept lines) joined with "\n". */
	tail(count: number = this.capacity): string {
		return this.lines.slice(-count).join("\n");
	}

	/** Whether any kept line matches. */
	some(predicate: (line: string) => boolean): boolean {
		return this.lines.some(predicate);
	}
}

/** Readable stream shape we need (works for Node, Bun and Deno child process streams). */
export interface LineSource {
	setEncoding(encoding: "utf8"): unknown;
	on(event: "data", listener: (chunk: string) => void): unknown;
	on(event: "end", listener: () => void): unknown;
}

/** Calls `onLine` for every complete line of `source` (and for a final unterminated line at end). */
export function readLines(source: LineSource, onLine: (line: string) => void): void {
	let pending = "";
	source.setEncoding("utf8");
	source.on("data", (chunk: string) => {
		pending += chunk;
		let index = pending.indexOf("\n");
		while (index !== -1) {
			onLine(pending.slice(0, index).replace(/\r$/, ""));
			pending = pending.slice(index + 1);
			index = pending.indexOf("\n");
		}
	});
	source.on("end", () => {
		if (pending) onLine(pending);
		pending = "";
	});
}
