/**
 * The live dashboard in a real browser: Debian's Chromium (/usr/bin/chromium, installed by .ci/run
 * with apt-get when missing; never a downloaded browser) driven by playwright-core, against the API
 * on a loopback socket. The token is asked once and kept for the tab; a decision made through the
 * API shows in the live view within a second; the last hour's chart, the campaigns and the number
 * lookup show what the gate did. A screenshot is kept in artifacts/dashboard.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startApi, type ApiServer } from '../../src/api';
import { createRuntime, type Runtime } from '../../src/main';
import { logSink } from '../gate/helpers';
import { apiConfig, AUTH, CONSUMER, TOKEN, type Reply } from './helpers';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(__dirname, '..', '..', 'artifacts');

let rt: Runtime;
let server: ApiServer;
let profile: string;
let browser: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

function post(pathname: string, body: unknown): Promise<Pick<Reply, 'status' | 'json'>> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(pathname, server.url),
      { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, agent: false },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)`);
  // the gate judges at a fixed instant (a Monday, 10:30 in Paris) whatever the time of the run; the live
  // view counts the minutes of the process's own clock
  const config = apiConfig();
  rt = createRuntime(config, { logger: logSink('warn').logger });
  server = await startApi({
    config,
    token: TOKEN,
    listen: { host: '127.0.0.1', port: 0 },
    gate: rt.gate,
    store: rt.store,
    clock: rt.clock,
    logger: rt.logger,
    adapters: [],
  });
  profile = mkdtempSync(path.join(tmpdir(), 'callgate-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1366, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && pageErrors.push(m.text()));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rt?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('asks for the token once, refuses a wrong one, and keeps the right one for the tab', async () => {
  await page.goto(server.url);
  await page.waitForSelector('#login:not([hidden])');
  await page.fill('#token', 'not-the-token-0000');
  await page.click('#login-form button');
  await page.waitForSelector('#login:not([hidden])');
  await expectText('#login-error', /token was refused/);
  await page.fill('#token', TOKEN);
  await page.click('#login-form button');
  await page.waitForSelector('#conn.on');
  expect(await page.isHidden('#login')).toBe(true);
  await page.reload();
  await page.waitForSelector('#conn.on'); // no second prompt
  expect(await page.isHidden('#login')).toBe(true);
});

test('a decision made through the API appears in the live view within one second', async () => {
  await rt.store.addConsent({
    e164: CONSUMER,
    professional: 'acme',
    categories: [],
    collectedAt: new Date('2026-10-01'),
  });
  const made = await post('/v1/attempts', {
    to: '06 98 76 54 32',
    callerId: '01 62 00 00 01',
    campaign: 'acme-energy',
  });
  expect(made.status).toBe(200);
  // one second from the answer, by the browser's own wait
  const row = await page.waitForSelector(`#live tr[data-id="${made.json.id}"]`, { timeout: 1000 });
  expect(await row.getAttribute('data-verdict')).toBe('block');
  expect(await row.innerText()).toMatch(/block[\s\S]*\+336\*{6}32[\s\S]*acme-energy[\s\S]*no_consent[\s\S]*api/);
});

test('shows the blocked calls of the hour by reason, the attempts per campaign, and looks a number up', async () => {
  for (let i = 0; i < 3; i++)
    await post('/v1/attempts', { to: '06 98 76 54 3' + i, callerId: '01 62 00 00 01', campaign: 'acme-energy' });
  await post('/v1/attempts', { to: '06 98 76 54 39', callerId: 'anonymous', campaign: 'acme-robot' });
  const allowed = await post('/v1/attempts', {
    to: '06 12 34 56 78',
    callerId: '01 62 00 00 01',
    campaign: 'acme-energy',
  });
  await page.waitForSelector(`#live tr[data-id="${allowed.json.id}"]`, { timeout: 1000 });
  await page.reload(); // the last hour, as a newly opened dashboard reads it, with the latest decisions
  await page.waitForSelector('#conn.on');
  await page.waitForSelector(`#live tr[data-id="${allowed.json.id}"]`, { timeout: 1000 });
  await page.waitForSelector('#chart .u-legend');
  const legend = await page.innerText('#chart .u-legend');
  expect(legend).toMatch(/no_consent/);
  expect(legend).toMatch(/caller_id_withheld/);
  expect(await page.isHidden('#chart-empty')).toBe(true);
  const energy = await page.innerText('#campaigns tr[data-campaign="acme-energy"]');
  expect(energy.split(/\s+/).filter(Boolean)).toEqual(['acme-energy', '1', '1', '4']);

  await page.fill('#lookup-number', '06 12 34 56 78');
  await page.selectOption('#lookup-campaign', 'acme-energy');
  await page.click('#lookup-form button');
  await page.waitForSelector('#lookup-facts');
  await expectText('#lookup-attempts', /^1 of 4$/);
  await expectText('#lookup-consent', /^valid/);
  await expectText('#lookup-dnc', /^not listed$/);
  expect(await page.innerText('#lookup-next')).toMatch(/now|from /);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
  expect(existsSync(path.join(ARTIFACTS, 'dashboard.png'))).toBe(true);
  expect(pageErrors.filter((e) => !/401/.test(e))).toEqual([]);
});

/** Waits (5 s at most) until the element's text matches. */
async function expectText(selector: string, re: RegExp): Promise<void> {
  let text = '';
  for (let i = 0; i < 100; i++) {
    text = (await page.textContent(selector)) ?? '';
    if (re.test(text)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(text).toMatch(re);
}
