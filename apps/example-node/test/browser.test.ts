// The page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): it chats through the
// gateway, stays connected while the room actor sleeps (the status line says so), and a message wakes the room.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type App, type ChatMessage, startApp } from "@x/example-chat-room";
import { Runner } from "@x/runner-node";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";

const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOT = fileURLToPath(new URL("../test-results/browser.png", import.meta.url));

let app: App;
let browser: BrowserContext;
let profile: string;
beforeAll(async () => {
	app = await startApp({ Runner, idleMs: 2500 });
	profile = mkdtempSync(join(tmpdir(), "chat-chromium-"));
	browser = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		viewport: { width: 900, height: 720 },
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
});
afterAll(async () => {
	await browser?.close();
	if (profile) rmSync(profile, { recursive: true, force: true });
	await app?.stop();
});

describe("the chat page in Chromium", () => {
	it("chats, shows the room asleep while connected, and wakes it with the next message", async () => {
		const page = browser.pages()[0] ?? (await browser.newPage());
		await page.goto(app.url);
		const status = page.locator("#status");
		await expect.poll(() => status.getAttribute("data-state")).toBe("awake");
		await page.fill("#name", "you");

		// Someone else in the room, over a plain WebSocket.
		const bob = new WebSocket(app.api.gatewayWebSocketUrl(app.actorId, "/ws"), ["rivet"]);
		await new Promise((resolve) => bob.once("message", resolve));
		bob.send(JSON.stringify({ type: "chat", from: "bob", text: "hey, anyone here?" }));
		await page.locator(".msg .text", { hasText: "hey, anyone here?" }).waitFor();

		await page.fill("#text", "hello from the browser");
		await page.press("#text", "Enter");
		await page.locator(".msg.mine .text", { hasText: "hello from the browser" }).waitFor();

		// Idle: the actor sleeps; the page is still connected and says so.
		await expect.poll(() => status.getAttribute("data-state"), { timeout: 20_000 }).toBe("asleep");
		await expect.poll(() => app.runner.hasActor(app.actorId), { timeout: 20_000 }).toBe(false);
		expect(await status.textContent()).toContain("asleep");

		await page.fill("#text", "waking the room up");
		await page.press("#text", "Enter");
		await page.locator(".msg.mine .text", { hasText: "waking the room up" }).waitFor();
		await expect.poll(() => status.getAttribute("data-state")).toBe("awake");

		// Once more, but this time someone else wakes the room: the page, a restored socket, still gets the message
		// and sees the room awake (live, or from the room's resync: see "A gap in the engine" in the README).
		await expect.poll(() => status.getAttribute("data-state"), { timeout: 20_000 }).toBe("asleep");
		await expect.poll(() => app.runner.hasActor(app.actorId), { timeout: 20_000 }).toBe(false);
		bob.send(JSON.stringify({ type: "chat", from: "bob", text: "bob woke it this time" }));
		await page.locator(".msg .text", { hasText: "bob woke it this time" }).waitFor();
		await expect.poll(() => status.getAttribute("data-state")).toBe("awake");

		const history = (await (await fetch(app.api.gatewayUrl(app.actorId, "/history"))).json()) as {
			messages: ChatMessage[];
		};
		const texts = [
			"hey, anyone here?",
			"hello from the browser",
			"waking the room up",
			"bob woke it this time",
		];
		expect(history.messages.map((m) => m.text)).toEqual(texts);
		expect(await page.locator(".msg .text").allTextContents()).toEqual(texts);

		mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
		await page.screenshot({ path: SCREENSHOT });
		await new Promise((resolve) => bob.once("close", resolve).close());
	});
});
