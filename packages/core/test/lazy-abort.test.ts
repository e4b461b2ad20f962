import { describe, expect, it } from "vitest";
import { LazyAbort } from "../src/lazy-abort.ts";

describe("LazyAbort", () => {
	it("makes its signal on first read and aborts it with the reason", () => {
		const abort = new LazyAbort();
		const signal = abort.signal;
		expect(abort.signal).toBe(signal);
		expect(signal.aborted).toBe(false);
		const reason = new Error("stop");
		abort.abort(reason);
		expect(abort.aborted).toBe(true);
		expect(signal.aborted).toBe(true);
		expect(signal.reason).toBe(reason);
	});

	it("hands out an already aborted signal when aborted before anyone read it", () => {
		const abort = new LazyAbort();
		abort.abort("gone");
		abort.abort("later reason is ignored");
		expect(abort.aborted).toBe(true);
		expect(abort.signal.aborted).toBe(true);
		expect(abort.signal.reason).toBe("gone");
	});

	it("fires abort listeners once", () => {
		const abort = new LazyAbort();
		let fired = 0;
		abort.signal.addEventListener("abort", () => fired++);
		abort.abort(1);
		abort.abort(2);
		expect(fired).toBe(1);
	});
});
