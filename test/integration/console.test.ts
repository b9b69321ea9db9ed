/// <reference lib="dom" />
// The web console in a real headless browser (Debian's chromium, driven by puppeteer-core) against
// a real HarperDB with $SYS every second. The page signs in with HTTP Basic auth, as a browser
// elsewhere than localhost would (local clients are not authorized here). The DOM types are for the
// callbacks of waitForFunction and $eval, which run in the page.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HarperInstance, PROJECT_DIR } from '../../src/cli/instance.js';
import { Mosquitto } from '../../src/cli/mosquitto.js';
import { closeAll, connect, publish, record, subscribe, unique, waitFor } from '../helpers/mqtt.js';
import { operation } from '../helpers/operations.js';

afterEach(closeAll);

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(PROJECT_DIR, 'artifacts');

// Local clients unauthorized (authentication.authorizeLocal: false), so the page must sign in as
// any remote browser would. Metrics are open to anyone here (metricsAnonymous), the console is not.
let harper: HarperInstance | undefined;
const instance = () => harper!;
// The remote broker of the bridges test; its ACL refuses one topic, so that a message is dead-lettered.
const ALLOW_ALL = 'topic readwrite #\n';
let mosquitto: Mosquitto | undefined;
beforeAll(async () => {
  mosquitto = await Mosquitto.start((dir) => {
    writeFileSync(join(dir, 'acl'), ALLOW_ALL + 'topic deny bridged/bad/#\n');
    // Mosquitto started as root drops to the mosquitto user, which cannot read this private folder.
    return [`user ${userInfo().username}`, `acl_file ${join(dir, 'acl')}`].join('\n');
  });
  harper = await HarperInstance.create({ threads: 2, authorizeLocal: false, env: { MQTT_BRIDGE_SYS_INTERVAL: '1', MQTT_BRIDGE_METRICS_ANONYMOUS: 'true', MQTT_BRIDGE_FAN_OUT_WARNING: '4' } });
  await harper.start();
}, 180_000);
afterAll(async () => {
  await harper?.destroy();
  await mosquitto?.stop();
});

describe('web console', () => {
  let browser: Browser;
  let page: Page;
  let base: string;
  const errors: string[] = [];

  const mqttClient = (clientId = unique('console-test')): Promise<MqttClient> => {
    const { ports, adminUser, adminPassword } = instance().info;
    return connect({ port: ports.mqtt, clientId, username: adminUser, password: adminPassword });
  };
  const text = (selector: string) => page.$eval(selector, (found) => found.textContent ?? '');
  /** REST as an admin: local clients are not authorized here. */
  const rest = (method: string, path: string, body?: unknown, contentType = 'application/json') => {
    const { adminUser, adminPassword } = instance().info;
    return fetch(`${base}${path}`, {
      method,
      headers: { 'content-type': contentType, authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  };
  const textIs = (selector: string, expected: string, timeout = 10_000) =>
    page.waitForFunction((found, wanted) => document.querySelector(found)?.textContent === wanted, { timeout }, selector, expected);

  beforeAll(async () => {
    const { ports, adminUser, adminPassword } = instance().info;
    base = `http://127.0.0.1:${ports.http}`;
    // Both threads have started their services once an authenticated client gets in.
    await waitFor(() => mqttClient().then((client) => client.endAsync().then(() => true), () => false), 'an MQTT connection with credentials', 30_000);
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 1000 });
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    await page.authenticate({ username: adminUser, password: adminPassword });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  it('refuses the page without credentials', async () => {
    const response = await fetch(`${base}/mqtt-console/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic');
    expect((await fetch(`${base}/mqtt-console/api/clients`)).status).toBe(401);
    expect((await fetch(`${base}/mqtt-console/app.js`)).status).toBe(401);
  });

  it('serves /metrics without credentials when metricsAnonymous is on', async () => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('# TYPE mqtt_publish_received_total counter\n');
  });

  it('loads, connects over MQTT/WebSocket and shows a topic published now within a second', async () => {
    const response = await page.goto(`${base}/mqtt-console/`);
    expect(response?.status()).toBe(200);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'connected', { timeout: 10_000 });
    const publisher = await mqttClient();
    const prefix = unique('console');
    const sentAt = Date.now();
    await publish(publisher, `${prefix}/room/temp`, '{"c":21.5,"ok":true}', { qos: 1 });
    await page.waitForSelector(`#tree .row[data-topic="${prefix}"]`, { timeout: 1000 });
    expect(Date.now() - sentAt).toBeLessThan(1000);

    // Open the levels and select the topic: the last payload is shown as pretty JSON.
    await page.click(`#tree .row[data-topic="${prefix}"]`);
    await page.waitForSelector(`#tree .row[data-topic="${prefix}/room"]`);
    await page.click(`#tree .row[data-topic="${prefix}/room"]`);
    await page.waitForSelector(`#tree .row[data-topic="${prefix}/room/temp"]`);
    await page.click(`#tree .row[data-topic="${prefix}/room/temp"]`);
    await page.waitForFunction(() => document.querySelector('#detail-last pre') !== null);
    expect(await text('#detail-topic')).toBe(`${prefix}/room/temp`);
    expect(await text('#detail-last pre')).toBe('{\n  "c": 21.5,\n  "ok": true\n}');
    expect(await text('#detail-last .kind')).toBe('json');

    // A binary payload shows as hex.
    await publish(publisher, `${prefix}/room/temp`, Buffer.from([0xde, 0xad, 0x00, 0xff]), { qos: 1 });
    await page.waitForFunction(() => document.querySelector('#detail-last .kind')?.textContent === 'binary', { timeout: 2000 });
    expect(await text('#detail-last pre')).toBe('00000000  de ad 00 ff                                       |....|');

    // The history panel follows the selected topic (it is written behind delivery): without a
    // reload, it shows both messages, newest first, about a second later; "reload" reads the same.
    const historyShown = async () => {
      await page.waitForFunction(() => document.querySelectorAll('#history .message').length === 2, { timeout: 5000 });
      return page.$$eval('#history .message pre', (blocks) => blocks.map((block) => block.textContent));
    };
    const both = ['00000000  de ad 00 ff                                       |....|', '{\n  "c": 21.5,\n  "ok": true\n}'];
    expect(await historyShown()).toEqual(both);
    await page.click('#history-reload');
    expect(await historyShown()).toEqual(both);
    expect(errors).toEqual([]);
  });

  it('keeps up with 10,000 topics under one level, drawing a page of them at a time', async () => {
    const publisher = await mqttClient();
    const prefix = unique('fleet');
    for (let i = 0; i < 10_000; i += 200) {
      // In chunks, so the page's QoS 0 queue (maxQueued) never overflows.
      await Promise.all(Array.from({ length: 200 }, (_, j) => publish(publisher, `${prefix}/truck${String(i + j).padStart(5, '0')}`, `{"n":${i + j}}`, { qos: 1 })));
    }
    const count = `#tree .row[data-topic="${prefix}"] .count`;
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === '10000 topics, 10000 msgs', { timeout: 10_000 }, count);
    const clickedAt = Date.now();
    await page.click(`#tree .row[data-topic="${prefix}"]`);
    await page.waitForSelector(`#tree .row[data-topic="${prefix}/truck00099"]`, { timeout: 1000 });
    expect(Date.now() - clickedAt).toBeLessThan(1000);
    const rows = await page.$$eval('#tree .row', (found, parent) => found.filter((row) => (row as HTMLElement).dataset.topic?.startsWith(`${parent}/`)).length, prefix);
    expect(rows).toBe(100);
    expect(await text(`#tree .row.more[data-more="${prefix}"] .name`)).toBe('… 9900 more');
    await page.click(`#tree .row[data-topic="${prefix}"] .twisty`); // closed again for the screenshot
  }, 60_000);

  it('moves the message chart as traffic flows', async () => {
    const points = () => page.$eval('#chart-messages polyline.in', (line) => line.getAttribute('points') ?? '');
    await page.waitForFunction(() => (document.querySelector('#chart-messages polyline.in')?.getAttribute('points') ?? '').includes(','), { timeout: 5000 });
    const before = await points();
    const publisher = await mqttClient();
    const topic = `${unique('chart')}/load`;
    for (let i = 0; i < 50; i++) await publish(publisher, topic, `m${i}`, { qos: 1 });
    await page.waitForFunction((old) => document.querySelector('#chart-messages polyline.in')?.getAttribute('points') !== old, { timeout: 5000 }, before);
    // The newest point shows the burst: the label reads a rate above zero.
    await page.waitForFunction(() => /^[1-9]/.test(document.getElementById('chart-messages-value')?.textContent ?? ''), { timeout: 5000 });
  });

  it('warns about a level that fans out into many topic tables, with the rule that folds them', async () => {
    expect(await page.$eval('#sys-fanout', (warning) => (warning as HTMLElement).hidden)).toBe(true);
    const publisher = await mqttClient();
    const prefix = unique('fanned').replace('-', '');
    for (let i = 1; i <= 4; i++) await publish(publisher, `${prefix}/d${i}/status`, 'on', { qos: 1, retain: true });
    await page.waitForFunction(() => !(document.getElementById('sys-fanout') as HTMLElement).hidden, { timeout: 15_000 });
    expect(await text('#sys-fanout')).toBe(`Fan-out: 4 tables under ${prefix}/+/; rule: ${prefix}/+${prefix}_id/#rest (docs/topics-and-tables.md, "Table rules")`);
  });

  it('lists the connected clients of both threads with user, protocol and subscriptions', async () => {
    const watcher = await mqttClient(unique('watcher'));
    await subscribe(watcher, ['a/#', 'b/+/c']);
    const id = (watcher.options.clientId as string);
    // Threads write their lists once a second: a list written between CONNECT and SUBACK shows no
    // subscriptions yet, and the next one does.
    await page.waitForFunction(
      (clientId) => Array.from(document.querySelectorAll('#clients-body tr')).some((row) => row.children[0]?.textContent === clientId && row.children[4]?.textContent === 'a/#, b/+/c'),
      { timeout: 10_000 },
      id,
    );
    const row = await page.$$eval('#clients-body tr', (rows, clientId) => rows.map((r) => Array.from(r.children, (cell) => cell.textContent)).find((cells) => cells[0] === clientId), id);
    expect(row!.slice(0, 7)).toEqual([id, instance().info.adminUser, 'MQTT 3.1.1', '2', 'a/#, b/+/c', '0', '0']);
    // The page's own connection is listed too.
    const ids = await page.$$eval('#clients-body tr td:first-child', (cells) => cells.map((cell) => cell.textContent));
    expect(ids.some((clientId) => clientId?.startsWith('mqtt-console-'))).toBe(true);
  });

  it('lists the sources with their table, topic, state and exact published count, refreshed as they publish', async () => {
    const { adminUser, adminPassword } = instance().info;
    const table = unique('ConsoleRows').replace('-', '_');
    const name = `console.${table}`;
    await operation(instance().info, { operation: 'create_table', database: 'data', table, primary_key: 'id' });
    const added = await fetch(`${base}/mqtt_sources/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from(`${adminUser}:${adminPassword}`).toString('base64') },
      body: JSON.stringify({ name, database: 'data', table, topic: 'console-source/{id}', qos: 0 }),
    });
    expect(added.status, await added.text()).toBe(200);
    const cell = (key: string) => text(`#sources-table tr[data-key="${name}"] td[data-key="${key}"]`);
    await page.waitForSelector(`#sources-table tr[data-key="${name}"]`, { timeout: 5000 });

    // The operations API thread may see the new table a moment after create_table answers.
    const insert = (ids: number[]) => operation(instance().info, { operation: 'insert', database: 'data', table, records: ids.map((id) => ({ id, n: id })) });
    await waitFor(() => insert([1]).then(() => true, () => false), 'the first insert', 10_000);
    await insert([2, 3, 4, 5, 6, 7]);
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent === '7',
      { timeout: 10_000 },
      `#sources-table tr[data-key="${name}"] td[data-key="published"]`,
    );
    expect(await cell('table')).toBe(`data.${table}`);
    expect(await cell('mode')).toBe('event');
    expect(await cell('topic')).toBe('console-source/{id}');
    expect(await cell('state')).toMatch(/^running \(thread \d+\)$/);
    expect(await cell('skipped')).toBe('0');
    expect(await cell('error')).toBe('–');
    await page.waitForFunction((selector) => document.querySelector(selector)?.textContent === 'caught up', { timeout: 5000 }, `#sources-table tr[data-key="${name}"] td[data-key="lag"]`);
    expect(await page.$$eval('#sources-table th', (cells) => cells.map((c) => c.textContent))).toEqual(['Source', 'Table', 'Mode', 'Topic', 'State', 'Published', 'Skipped', 'Lag', 'Position', 'Last error']);
    expect(await text('#sources-count')).toBe('1, 1 running');
    expect(errors).toEqual([]);
  });

  it('lists a bridge with its exact acknowledged count, and replays its dead letter from the page', async () => {
    const name = 'to-mosquitto';
    const url = `mqtt://127.0.0.1:${mosquitto!.port}`;
    // Two attempts (0 s, 1 s) before a refused message becomes a dead letter.
    const added = await rest('POST', '/mqtt_bridges/', { name, url, maxAttempts: 2, outbound: [{ filter: 'bridged/#' }] });
    expect(added.status, await added.text()).toBe(201);
    const row = `#bridges-table tr[data-key="${name}"]`;
    const cell = (key: string) => text(`${row} td[data-key="${key}"]`);
    await textIs(`${row} td[data-key="state"]`, 'connected · live', 15_000);

    const publisher = await mqttClient();
    for (let i = 0; i < 15; i++) await publish(publisher, `bridged/ok/${i % 3}`, `m${i}`, { qos: 1 });
    await textIs(`${row} td[data-key="acknowledged"]`, '15');
    expect(await cell('url')).toBe(url);
    expect(await cell('sent')).toBe('15');
    expect(await cell('pending')).toBe('0');
    expect(await cell('dead')).toBe('0');
    expect(await cell('error')).toBe('–');
    expect(await page.$$eval('#bridges-table th', (cells) => cells.map((c) => c.textContent))).toEqual([
      'Bridge', 'Remote', 'Connection', 'Sent', 'Acknowledged', 'Received', 'Pending', 'Oldest pending', 'Retrying / retries', 'Dead letters', 'Last error',
    ]);

    // The remote's ACL refuses one topic: after two attempts it is a dead letter, listed when the row is clicked.
    await publish(publisher, 'bridged/bad/1', 'refused', { qos: 1 });
    await textIs(`${row} td[data-key="dead"]`, '1', 15_000);
    await page.click(`${row} td[data-key="dead"]`);
    const letter = '#dead-table tbody tr';
    await page.waitForSelector(letter, { timeout: 5000 });
    expect(await text('#dead-bridge')).toBe(name);
    const cells = await page.$$eval(`${letter} td`, (found) => Object.fromEntries(found.map((td) => [(td as HTMLElement).dataset.key, td.textContent])));
    expect(cells).toMatchObject({ topic: 'bridged/bad/1', attempts: '2', bytes: '7 B' });
    expect(cells.reason).toMatch(/Not authorized/);
    expect(cells.id).not.toBe('');
    expect(await text('#bridges-count')).toBe('1, 1 connected, 1 dead letter');

    // Lift the ACL, then Replay: the message reaches the remote and the dead letter is gone.
    writeFileSync(join(mosquitto!.dir, 'acl'), ALLOW_ALL);
    mosquitto!.reload();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await page.click('#replay');
    await page.waitForFunction(() => /^1 replayed at /.test(document.getElementById('replay-result')?.textContent ?? ''), { timeout: 5000 });
    await textIs(`${row} td[data-key="dead"]`, '0', 15_000);
    await textIs(`${row} td[data-key="acknowledged"]`, '16');
    await textIs('#dead-count', 'none');
    expect(await page.$$(letter)).toHaveLength(0);
    // Replay is for admins, names a bridge, and takes JSON only (a form of another site cannot send it).
    const replay = '/mqtt-console/api/bridges/replay';
    expect((await fetch(`${base}${replay}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await rest('POST', replay, { bridge: 'no-such-bridge' })).status).toBe(404);
    expect((await rest('POST', replay, `bridge=${name}`, 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await rest('GET', `/mqtt-console/api/bridges/dead-letters?bridge=no-such-bridge`)).status).toBe(404);
    // Never a credential on the page.
    expect(await page.content()).not.toMatch(/password/i);
    expect(errors).toEqual([]);
  }, 60_000);

  it('publishes a test message from the form, byte for byte', async () => {
    const subscriber = await mqttClient();
    const received = record(subscriber);
    const root = unique('from-console');
    const topic = `${root}/cmd`;
    await subscribe(subscriber, topic, { qos: 1 });
    await page.$eval('#publish-topic', (input) => ((input as HTMLInputElement).value = ''));
    await page.type('#publish-topic', topic);
    await page.$eval('#publish-payload', (input) => ((input as HTMLTextAreaElement).value = ''));
    await page.type('#publish-payload', 'héllo ✓');
    await page.click('#publish-button');
    await waitFor(() => received.length === 1, 'the message from the console');
    expect(received[0]!.payload).toEqual(Buffer.from('héllo ✓', 'utf8'));
    expect(received[0]!.qos).toBe(1);
    expect(await text('#publish-result')).toMatch(new RegExp(`^published to ${topic} at `));

    // Hex bytes too.
    await page.select('#publish-format', 'hex');
    await page.$eval('#publish-payload', (input) => ((input as HTMLTextAreaElement).value = '00 01 fe ff'));
    await page.click('#publish-button');
    await waitFor(() => received.length === 2, 'the binary message');
    expect(received[1]!.payload).toEqual(Buffer.from([0x00, 0x01, 0xfe, 0xff]));

    // The page saw its own messages: the topic shows both, newest first, in the history.
    await page.waitForSelector(`#tree .row[data-topic="${root}"]`);
    await page.click(`#tree .row[data-topic="${root}"]`);
    await page.waitForSelector(`#tree .row[data-topic="${topic}"]`);
    await page.click(`#tree .row[data-topic="${topic}"]`);
    await page.waitForFunction(() => document.querySelectorAll('#history .message').length === 2, { timeout: 5000 });
    expect(await page.$$eval('#history .message pre', (blocks) => blocks.map((block) => block.textContent))).toEqual([
      '00000000  00 01 fe ff                                       |....|',
      'héllo ✓',
    ]);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'console.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT) copyFileSync(join(ARTIFACTS, 'console.png'), join(PROJECT_DIR, 'docs', 'console.png'));
    expect(errors).toEqual([]);
  });
});
