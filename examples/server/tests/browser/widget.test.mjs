// Real-browser tests of the web chat widget (static/widget.js, served by kefu-server at `/`).
//
// Starts `kefu-server --demo` on a free port, drives Debian's Chromium with playwright-core and
// checks what a customer sees: streamed replies over SSE and WebSocket, quick-reply buttons,
// a human agent's message after a hand-off, and a WebSocket that reconnects.
//
//   KEFU_SERVER_BIN  the server binary (default <repo>/target/debug/kefu-server)
//   KEFU_CHROMIUM    the browser (default /usr/bin/chromium)

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../../..');
const SERVER_BIN = process.env.KEFU_SERVER_BIN || path.join(repo, 'target/debug/kefu-server');
const CHROMIUM = process.env.KEFU_CHROMIUM || '/usr/bin/chromium';
const TIMEOUT = 15_000; // per expectation
const WebSocketState = { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 };

let server; // the child process
let serverLog = '';
let base; // http://127.0.0.1:PORT
let browser;

// ---- server ------------------------------------------------------------------------------

function stopServer() {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
}
// Whatever happens (an uncaught error, Ctrl-C), the child does not outlive the test run.
process.on('exit', stopServer);

async function startServer() {
  assert.ok(existsSync(SERVER_BIN), `no server binary at ${SERVER_BIN}: run \`cargo build -p kefu-server\` or set KEFU_SERVER_BIN`);
  server = spawn(SERVER_BIN, ['--demo', '--bind', '127.0.0.1', '--port', '0'], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KEFU_LOG: process.env.KEFU_LOG || 'warn' },
  });
  server.stderr.on('data', (chunk) => {
    serverLog = (serverLog + chunk).slice(-8000);
  });
  const exited = new Promise((_, reject) => {
    server.once('exit', (code, signal) =>
      reject(new Error(`kefu-server exited early (code ${code}, signal ${signal}):\n${serverLog}`)),
    );
  });
  exited.catch(() => {}); // only awaited while starting
  const firstLine = new Promise((resolve) => {
    readline.createInterface({ input: server.stdout }).once('line', resolve);
  });
  const line = await withTimeout(Promise.race([firstLine, exited]), TIMEOUT, 'the server did not print its address');
  const match = /listening on (http:\/\/\S+)/.exec(line);
  assert.ok(match, `unexpected first line from kefu-server: ${line}`);
  base = match[1].replace(/\/$/, '');
  server.stdout.resume(); // keep draining stdout
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${base}/readyz`).then((r) => r.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`/readyz never returned 200:\n${serverLog}`);
    await Promise.race([sleep(100), exited]);
  }
}

async function stopServerGracefully() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const gone = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(stopServer, 5_000);
  await gone;
  clearTimeout(timer);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  await startServer();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives each launch a fresh temporary profile (--user-data-dir) and
    // deletes it on close.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    timeout: 30_000,
  });
});

after(async () => {
  try {
    if (browser) await browser.close();
  } finally {
    await stopServerGracefully();
  }
});

// ---- page helpers ------------------------------------------------------------------------

/** A fresh browser context (empty localStorage) on the demo page; closed after the test. */
async function openPage(t, query) {
  const context = await browser.newContext({ locale: 'en-US' });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(new Error(m.text()));
  });
  const requests = [];
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url(), accept: r.headers().accept || '' }));
  const sockets = [];
  const framesSent = [];
  page.on('websocket', (ws) => {
    sockets.push(ws);
    ws.on('framesent', (f) => framesSent.push(String(f.payload)));
  });
  await page.goto(`${base}/${query}`);
  await page.locator('[data-kefu="input"]').waitFor();
  return { page, pageErrors, requests, sockets, framesSent };
}

const bots = (page) => page.locator('[data-kefu="bot"]');

async function statusOnline(page) {
  await page.locator('[data-kefu="status"][data-state="online"]').waitFor();
}

async function botTexts(page) {
  return bots(page).locator('[data-kefu="text"]').allTextContents();
}

/** Waits until the widget has no turn in flight and shows more bot bubbles than `before`. */
async function waitForReply(page, before) {
  await page.waitForFunction(
    (n) =>
      document.querySelectorAll('[data-kefu="bot"]').length > n &&
      document.querySelector('[data-kefu="widget"]').getAttribute('data-busy') === 'false',
    before,
    { timeout: TIMEOUT },
  );
  const texts = await botTexts(page);
  return texts.slice(before).join('\n');
}

/** Types `text` into the widget, sends it and returns the text of the bot's reply. */
async function say(page, text, { click = false } = {}) {
  const before = await bots(page).count();
  await page.locator('[data-kefu="input"]').fill(text);
  if (click) await page.locator('[data-kefu="send"]').click();
  else await page.locator('[data-kefu="input"]').press('Enter');
  await page.locator('[data-kefu="user"]', { hasText: text }).last().waitFor();
  return waitForReply(page, before);
}

/** Clicks the quick-reply button titled `title` of the latest bot message; returns the reply. */
async function clickQuickReply(page, title) {
  const before = await bots(page).count();
  const button = bots(page).last().locator('[data-kefu="quick-reply"]', { hasText: title });
  await button.click();
  return waitForReply(page, before);
}

async function waitIdle(page) {
  await page.locator('[data-kefu="widget"][data-busy="false"]').waitFor();
}

function assertNoErrors(page, pageErrors) {
  assert.deepEqual(pageErrors.map(String), [], 'no JavaScript errors on the page');
  return page.locator('[data-kefu="error"]').count().then((n) => assert.equal(n, 0, 'no error bubble'));
}

// ---- tests -------------------------------------------------------------------------------

test('zh over SSE: the returns form asks for the order number, then the reason', async (t) => {
  const { page, pageErrors, requests, sockets } = await openPage(t, '?lang=zh');
  const input = page.locator('[data-kefu="input"]');
  assert.match(await input.getAttribute('placeholder'), /请输入/);
  assert.equal((await page.locator('[data-kefu="send"]').textContent()).trim(), '发送');
  assert.equal(await page.locator('[data-kefu="log"]').getAttribute('aria-live'), 'polite');
  assert.equal(await page.locator('[data-kefu="log"]').getAttribute('role'), 'log');
  // the input is labelled
  const label = await page.evaluate(() => document.querySelector('[data-kefu="input"]').labels[0]?.textContent);
  assert.ok(label && label.length > 0, 'the input has a <label>');
  await statusOnline(page);
  assert.match(await page.locator('[data-kefu="status"]').textContent(), /已连接/);

  const first = await say(page, '我要退货', { click: true });
  assert.match(first, /订单/);
  const second = await say(page, 'SO123456');
  assert.match(second, /原因/);
  assert.doesNotMatch(second, /订单号是多少|发一下订单号/, 'the order number is not asked again');

  // Server text is shown as text: a reason with markup comes back in the confirmation verbatim.
  const evil = '<img src=x onerror="window.__xss=1">尺码不对';
  const confirm = await say(page, evil);
  assert.ok(confirm.includes(evil), `the confirmation quotes the reason as text: ${confirm}`);
  assert.equal(await page.locator('[data-kefu="log"] img').count(), 0, 'no element was created from text');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.ok((await bots(page).last().locator('[data-kefu="quick-reply"]').count()) >= 2, 'confirm/decline buttons');

  // The replies came over POST …/messages as an event stream; no WebSocket was opened.
  const posts = requests.filter((r) => r.method === 'POST' && /\/v1\/conversations\/[^/]+\/messages$/.test(r.url));
  assert.equal(posts.length, 3);
  assert.ok(posts.every((r) => r.accept.includes('text/event-stream')));
  assert.equal(sockets.length, 0);
  await assertNoErrors(page, pageErrors);
});

test('en over WebSocket: greeting with quick replies, then a return confirmed with a button', async (t) => {
  const { page, pageErrors, requests, sockets, framesSent } = await openPage(t, '?lang=en&transport=ws');
  assert.match(await page.locator('[data-kefu="input"]').getAttribute('placeholder'), /Ask a question/);
  assert.equal((await page.locator('[data-kefu="send"]').textContent()).trim(), 'Send');
  await statusOnline(page);
  assert.equal(await page.locator('[data-kefu="status"]').textContent(), 'Connected');

  const greeting = await say(page, 'hello');
  assert.match(greeting, /Xiaoke/);
  // (locators are lazy: pin the greeting's bubble by position, not by "last")
  const buttons = bots(page).nth((await bots(page).count()) - 1).locator('[data-kefu="quick-reply"]');
  assert.ok((await buttons.count()) >= 2, 'the greeting offers quick replies');

  // A quick reply sends its payload; the user's bubble shows its title.
  const ask = await clickQuickReply(page, 'Return an item');
  assert.match(ask, /order number/i);
  const users = await page.locator('[data-kefu="user"] [data-kefu="text"]').allTextContents();
  assert.equal(users.at(-1), 'Return an item');
  const sent = framesSent.map((f) => JSON.parse(f));
  assert.equal(sent.at(-1).text, '/request_return', 'the button sent its payload');
  assert.equal(sent.at(-1).conversation_id, await page.evaluate(() => window.Kefu.conversationId));
  assert.ok(await buttons.first().isDisabled(), 'answered quick replies are disabled');

  assert.match(await say(page, 'SO123456'), /reason/i);
  const confirm = await say(page, 'they do not fit');
  assert.match(confirm, /confirm/i);
  assert.match(confirm, /they do not fit/);
  const done = await clickQuickReply(page, 'Yes');
  assert.match(done, /submitted/i);

  // Everything went over the one socket.
  assert.equal(sockets.length, 1);
  assert.ok(sockets[0].url().endsWith('/v1/ws'));
  const posts = requests.filter((r) => r.method === 'POST');
  assert.deepEqual(posts, [], 'no POST with the ws transport');
  await assertNoErrors(page, pageErrors);
});

test('hand-off: a human agent’s message reaches the page over the conversation stream', async (t) => {
  const { page, pageErrors } = await openPage(t, '?lang=en');
  await statusOnline(page); // the conversation's event stream is open

  const reply = await say(page, 'I want to talk to a human');
  assert.match(reply, /human agent/i);
  await page.locator('[data-kefu="widget"][data-handoff="true"]').waitFor();

  const id = await page.evaluate(() => window.Kefu.conversationId);
  assert.ok(id, 'the widget exposes its conversation id');
  const stored = await page.evaluate(() =>
    Object.keys(localStorage).map((k) => localStorage.getItem(k)),
  );
  assert.ok(stored.includes(id), 'the conversation id is kept in localStorage');

  const res = await fetch(`${base}/v1/agent/conversations/${encodeURIComponent(id)}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ text: 'Hi, this is Anna' }),
  });
  assert.equal(res.status, 200, await res.text());
  const agent = page.locator('[data-kefu="agent"]', { hasText: 'Hi, this is Anna' });
  await agent.waitFor();
  assert.equal(await bots(page).filter({ hasText: 'Hi, this is Anna' }).count(), 0, 'not shown as the bot');

  // The customer writes on; the bot stays silent while the agent has the conversation and
  // the agent's message is not repeated.
  const before = await bots(page).count();
  await page.locator('[data-kefu="input"]').fill('thanks Anna');
  await page.locator('[data-kefu="send"]').click();
  await page.locator('[data-kefu="user"]', { hasText: 'thanks Anna' }).waitFor();
  await waitIdle(page);
  assert.equal(await bots(page).count(), before);
  assert.equal(await page.locator('[data-kefu="agent"]').count(), 1);

  // A reload keeps the conversation (localStorage) and shows its history.
  await page.reload();
  await page.locator('[data-kefu="agent"]', { hasText: 'Hi, this is Anna' }).waitFor();
  assert.equal(await page.evaluate(() => window.Kefu.conversationId), id);

  // "New conversation" starts over with a new id.
  await page.locator('[data-kefu="new"]').click();
  const fresh = await page.evaluate(() => window.Kefu.conversationId);
  assert.notEqual(fresh, id);
  assert.equal(await page.locator('[data-kefu="agent"], [data-kefu="bot"], [data-kefu="user"]').count(), 0);
  assert.ok((await page.evaluate(() => Object.keys(localStorage).map((k) => localStorage.getItem(k)))).includes(fresh));
  await assertNoErrors(page, pageErrors);
});

test('reconnect: the WebSocket comes back after it drops and the next message is answered', async (t) => {
  const { page, pageErrors, sockets } = await openPage(t, '?lang=en&transport=ws');
  await statusOnline(page);
  assert.match(await say(page, 'hello'), /Xiaoke/);

  const state = await page.evaluate(() => {
    window.__firstSocket = window.Kefu._socket;
    window.Kefu.debugDropConnection();
    return window.__firstSocket.readyState;
  });
  assert.ok(state === WebSocketState.CLOSING || state === WebSocketState.CLOSED, `socket closing (${state})`);

  // Sent while the socket is down: queued, then sent on the new socket.
  const reply = await say(page, 'I want to return my shoes');
  assert.match(reply, /order number/i);
  const swapped = await page.evaluate(
    () => window.Kefu._socket !== window.__firstSocket && window.__firstSocket.readyState === WebSocket.CLOSED,
  );
  assert.ok(swapped, 'a new socket replaced the dropped one');
  assert.equal(sockets.length, 2, 'the widget opened a second socket');
  await statusOnline(page);
  assert.match(await say(page, 'SO123456'), /reason/i, 'the conversation goes on after the reconnect');
  await assertNoErrors(page, pageErrors);
});

test('embed: the <script> tag alone mounts a floating panel that chats', async (t) => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e));
  // A customer's own page (served here on the server's origin: the demo allows no CORS).
  await page.route(`${base}/shop.html`, (route) =>
    route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><h1>Shop</h1>' +
        '<script src="/widget.js" data-server="" data-transport="sse" data-lang="en"></script></body></html>',
    }),
  );
  await page.goto(`${base}/shop.html`);
  const widget = page.locator('[data-kefu="widget"]');
  await widget.waitFor();
  assert.equal(await widget.count(), 1);
  assert.equal(await widget.evaluate((el) => getComputedStyle(el).position), 'fixed');
  // data-lang wins over the browser's zh-CN locale
  assert.equal((await page.locator('[data-kefu="send"]').textContent()).trim(), 'Send');
  await statusOnline(page);
  assert.match(await say(page, 'hello'), /Xiaoke/);

  // The panel collapses and opens again.
  const toggle = page.locator('[data-kefu="toggle"]');
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('[data-kefu="input"]').isVisible(), false);
  await toggle.click();
  assert.equal(await page.locator('[data-kefu="input"]').isVisible(), true);
  assert.deepEqual(pageErrors.map(String), []);
});
