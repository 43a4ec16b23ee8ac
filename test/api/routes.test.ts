/**
 * The admin API's routes through fastify's injection, on a real gate and store: the token, the
 * decisions (exactly as `callgate check --json` prints them), the data routes with the command line's
 * checks, the number lookup, the decision list and its cursor, the one error shape, and answers held
 * to the schemas of the OpenAPI document.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { checkCommand } from '../../src/cli/commands/check';
import { consentOf, CLI_ROWS, RowError } from '../../src/store/rows';
import { apiConfig, AUTH, call, CONSUMER, harness, TOKEN, type Harness } from './helpers';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

const attempt = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  to: '06 12 34 56 78',
  callerId: '01 62 00 00 01',
  campaign: 'acme-energy',
  ...over,
});
const consent = (over: Record<string, unknown> = {}) => ({
  number: '06 12 34 56 78',
  professional: 'acme',
  collectedAt: '2026-10-01T10:00',
  ...over,
});
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('the token', () => {
  it('every route but /healthz and the dashboard files asks for it; a wrong one is refused the same way', async () => {
    h = await harness();
    const doc = await call(h, 'GET', '/v1/openapi.json');
    expect(doc.status).toBe(200);
    const publicPaths = ['/healthz', '/'];
    let checked = 0;
    for (const [p, ops] of Object.entries(doc.json.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) {
        const url = p.replace('{n}', '0612345678');
        const res = await h.api.app.inject({ method: method.toUpperCase() as 'GET', url });
        if (publicPaths.includes(p)) {
          expect({ p, status: res.statusCode }).toEqual({ p, status: 200 });
          continue;
        }
        checked++;
        expect({ p, method, status: res.statusCode }).toEqual({ p, method, status: 401 });
        expect(res.headers['www-authenticate']).toBe('Bearer realm="callgate"');
        expect(JSON.parse(res.body).error.code).toBe('CG_ERR_API_AUTH');
        for (const authorization of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `Basic ${TOKEN}`, TOKEN])
          expect(
            (await h.api.app.inject({ method: method.toUpperCase() as 'GET', url, headers: { authorization } }))
              .statusCode,
          ).toBe(401);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(15);
    // the scheme is case-insensitive (RFC 7235)
    expect(
      (await h.api.app.inject({ url: '/v1/stats', headers: { authorization: `bearer ${TOKEN}` } })).statusCode,
    ).toBe(200);
    // the HEAD routes fastify adds for each GET route ask for it too (and the public ones do not)
    expect((await h.api.app.inject({ method: 'HEAD', url: '/v1/stats' })).statusCode).toBe(401);
    expect(
      (await h.api.app.inject({ method: 'HEAD', url: '/v1/stats', headers: { authorization: `Bearer ${TOKEN}` } }))
        .statusCode,
    ).toBe(200);
    expect((await h.api.app.inject({ method: 'HEAD', url: '/healthz' })).statusCode).toBe(200);
    // an unknown path asks for the token first, then says it does not exist
    expect((await call(h, 'GET', '/v1/nope', undefined, false)).status).toBe(401);
    const missing = await call(h, 'GET', '/v1/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('CG_ERR_API_NOT_FOUND');
  });
});

describe('deciding', () => {
  it('POST /v1/check answers byte for byte what `callgate check --json` prints for the same attempt', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'callgate-api-'));
    try {
      const yaml = `
store: {driver: memory}
professionals: [{id: acme, callerIds: ['+33162000001']}, {id: other-pro}]
campaigns:
  - {id: acme-energy, professional: acme, dialing: manual, categories: [energy-supply]}
  - {id: acme-robot, professional: acme, dialing: automated}
defaultCampaign: {id: default, professional: acme}
clock: {mode: fixed, at: '2026-11-30T09:30:00Z'}
`;
      const file = path.join(dir, 'callgate.yaml');
      writeFileSync(file, yaml);
      process.env.CALLGATE_LOG_LEVEL = 'error'; // the command's fixed-clock warning, not this test's business
      h = await harness();
      for (const a of [
        attempt(),
        attempt({ to: '0596 12 34 56', postalCode: '97200', at: '2026-11-29T15:00' }),
        attempt({ callerId: 'anonymous', campaign: 'acme-robot' }),
        attempt({ to: '112' }),
        attempt({ to: '0899 12 34 56' }),
      ]) {
        let printed = '';
        await checkCommand(
          {
            to: a.to as string,
            callerId: a.callerId as string,
            campaign: a.campaign as string,
            ...(a.at ? { at: a.at as string } : {}),
            ...(a.postalCode ? { postalCode: a.postalCode as string } : {}),
            json: true,
            config: file,
          },
          { out: (t) => void (printed += t), err: () => undefined },
        );
        const r = await call(h, 'POST', '/v1/check', a);
        expect(r.status).toBe(200);
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        const cli = JSON.parse(printed);
        // the same text, once the decision id (a new one each time) and the source are set aside
        expect(r.text.replace(r.json.id, cli.id).replace('{"pbx":"api"}', '{"pbx":"cli"}')).toBe(printed.trimEnd());
      }
    } finally {
      delete process.env.CALLGATE_LOG_LEVEL;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('/v1/check records no attempt; /v1/attempts records the allowed ones and blocks the fifth with its retryAfter', async () => {
    h = await harness();
    expect((await call(h, 'POST', '/v1/consents', consent())).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await call(h, 'POST', '/v1/check', attempt())).json.verdict).toBe('allow');
    expect((await h.rt.store.history(CONSUMER)).attempts).toHaveLength(0);
    for (let i = 0; i < 4; i++) {
      const r = await call(h, 'POST', '/v1/attempts', attempt());
      expect(r.json.verdict).toBe('allow');
    }
    expect((await h.rt.store.history(CONSUMER)).attempts).toHaveLength(4);
    const fifth = await call(h, 'POST', '/v1/attempts', attempt());
    expect(fifth.status).toBe(200);
    expect(fifth.json.verdict).toBe('block');
    expect(codes(fifth.json)).toEqual(['frequency_limit']);
    expect(fifth.json.reasons[0].retryAfter).toBe('2026-12-30T09:30:00.000Z');
    expect((await h.rt.store.history(CONSUMER)).attempts).toHaveLength(4);
  });

  it('a bad attempt is a 400 listing every problem, with the command line words, and decides nothing', async () => {
    h = await harness();
    const r = await call(h, 'POST', '/v1/attempts', {
      to: 'zero six',
      callerId: '06--12',
      at: 'tomorrow',
      campaign: 'acme-energi',
      postalCode: '6700',
      extra: true,
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('CG_ERR_API_INPUT');
    expect(r.json.error.problems.map((p: { path: string }) => p.path)).toEqual([
      'body.extra',
      'body.to',
      'body.callerId',
      'body.at',
      'body.postalCode',
      'body.campaign',
    ]);
    expect(r.json.error.problems[3].message).toMatch(/"tomorrow" is not a date or date-time callgate reads/);
    expect(r.json.error.problems[5].message).toMatch(
      /unknown campaign "acme-energi"; declared in the config: acme-energy, acme-robot, default/,
    );
    expect(r.json.error.message).toMatch(/^invalid request, nothing was changed: 6 problems: body\.extra: /);
    expect((await h.rt.store.listDecisions({ limit: 10 })).rows).toEqual([]);

    const types = await call(h, 'POST', '/v1/check', { to: 612345678, callerId: null, at: '' });
    expect(types.json.error.problems).toEqual([
      { path: 'body.to', message: 'must be a string' },
      { path: 'body.callerId', message: 'must be a string' },
      { path: 'body.at', message: 'must not be empty' },
    ]);
    const missing = await call(h, 'POST', '/v1/check', {});
    expect(missing.json.error.problems.map((p: { path: string }) => p.path)).toEqual(['body.to', 'body.callerId']);
    const notJson = await call(h, 'POST', '/v1/check', '{"to": ');
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe('CG_ERR_API_INPUT');
    const notObject = await call(h, 'POST', '/v1/check', '[1,2]');
    expect(notObject.status).toBe(400);
    expect(notObject.json.error.problems).toEqual([{ path: 'body', message: 'must be a object' }]);
    const form = await h.api.app.inject({
      method: 'POST',
      url: '/v1/check',
      headers: { ...AUTH, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'to=1',
    });
    expect(form.statusCode).toBe(415);
    expect(JSON.parse(form.body).error.code).toBe('CG_ERR_API_INPUT');
    const huge = await call(h, 'POST', '/v1/check', { ...attempt(), to: 'x'.repeat(70 * 1024) });
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe('CG_ERR_API_INPUT');
  });

  it('a campaign named by the default campaign id is the default campaign; a withheld caller ID is judged, not refused', async () => {
    h = await harness();
    const r = await call(h, 'POST', '/v1/check', attempt({ campaign: 'default', callerId: 'anonymous' }));
    expect(r.status).toBe(200);
    expect(r.json.campaign.id).toBe('default');
    expect(codes(r.json)).toContain('caller_id_withheld');
    expect(r.json.callerId).toEqual({ number: 'anonymous', presentation: 'restricted' });
  });
});

describe('consents, contracts, do-not-call, refusals', () => {
  it('a consent added, listed and withdrawn changes what the gate decides', async () => {
    h = await harness();
    const added = await call(
      h,
      'POST',
      '/v1/consents',
      consent({ categories: ['energy-supply'], source: 'web form #12' }),
    );
    expect(added.status).toBe(200);
    expect(added.json).toEqual({
      consent: {
        number: CONSUMER,
        professional: 'acme',
        categories: ['energy-supply'],
        collectedAt: '2026-10-01T08:00:00.000Z',
        source: 'web form #12',
      },
    });
    expect((await call(h, 'POST', '/v1/check', attempt())).json.verdict).toBe('allow');
    const listed = await call(h, 'GET', '/v1/consents?number=%2B33612345678');
    expect(listed.json).toEqual({ number: CONSUMER, consents: [added.json.consent] });
    const w = await call(h, 'POST', '/v1/consents/withdrawals', { number: '0612345678', professional: 'acme' });
    expect(w.json).toEqual({ number: CONSUMER, professional: 'acme', at: '2026-11-30T09:30:00.000Z', withdrawn: 1 });
    expect(codes((await call(h, 'POST', '/v1/check', attempt())).json)).toEqual(['consent_withdrawn']);
    const again = await call(h, 'POST', '/v1/consents/withdrawals', { number: '0612345678', professional: 'acme' });
    expect(again.json.withdrawn).toBe(0);
    expect((await call(h, 'GET', '/v1/consents?number=0612345678')).json.consents[0].withdrawnAt).toBe(
      '2026-11-30T09:30:00.000Z',
    );
  });

  it('refuses what `consent add` refuses, with the same words, every problem at once, and writes nothing', async () => {
    h = await harness();
    const bad = consent({
      number: '112',
      professional: 'globex',
      categories: ['energy', ''],
      validUntil: '2026-09-01',
      source: 'line\nbreak',
    });
    const r = await call(h, 'POST', '/v1/consents', bad);
    expect(r.status).toBe(400);
    expect(r.json.error.problems.map((p: { path: string }) => p.path)).toEqual([
      'body.categories.1',
      'body.number',
      'body.professional',
      'body.source',
    ]);
    expect(r.json.error.problems[2].message).toMatch(
      /"globex" is not a professional declared in the config \(declared: acme, other-pro\)/,
    );
    // the fields right, the row wrong: the importer's cross-field check, its words with the API's names
    const ends = await call(h, 'POST', '/v1/consents', consent({ validUntil: '2026-09-01' }));
    expect(ends.status).toBe(400);
    let cli = '';
    try {
      consentOf(
        {
          ...CLI_ROWS,
          names: { ...CLI_ROWS.names, validUntil: 'validUntil', collectedAt: 'collectedAt' },
          professionals: ['acme'],
        },
        { number: '0612345678', professional: 'acme', collectedAt: '2026-10-01T10:00', validUntil: '2026-09-01' },
      );
    } catch (e) {
      cli = (e as RowError).message;
    }
    expect(ends.json.error.problems).toEqual([{ path: 'body.validUntil', message: cli.replace(/^validUntil: /, '') }]);
    const comma = await call(h, 'POST', '/v1/consents', consent({ categories: ['a,b'] }));
    expect(comma.json.error.problems).toEqual([
      { path: 'body.categories[0]', message: '"a,b" contains a comma; give each category as its own item' },
    ]);
    expect((await h.rt.store.history(CONSUMER)).consents).toEqual([]);
  });

  it('contracts, do-not-call entries and refusals are recorded, listed and judged', async () => {
    h = await harness();
    await call(h, 'POST', '/v1/consents', consent());
    const k = await call(h, 'POST', '/v1/contracts', {
      number: '06 12 34 56 78',
      professional: 'acme',
      categories: ['energy-supply'],
      start: '2026-01-01',
    });
    expect(k.json).toEqual({
      contract: {
        number: CONSUMER,
        professional: 'acme',
        categories: ['energy-supply'],
        start: '2025-12-31T23:00:00.000Z',
      },
    });
    expect((await call(h, 'GET', '/v1/contracts?number=0612345678')).json.contracts).toEqual([k.json.contract]);
    const noCats = await call(h, 'POST', '/v1/contracts', {
      number: '0612345678',
      professional: 'acme',
      categories: [],
    });
    expect(noCats.json.error.problems).toEqual([
      { path: 'body.categories', message: 'must NOT have fewer than 1 items' },
    ]);

    const r = await call(h, 'POST', '/v1/refusals', {
      number: '0612345678',
      professional: 'acme',
      at: '2026-11-20T15:00',
    });
    expect(r.json).toEqual({ refusal: { number: CONSUMER, professional: 'acme', at: '2026-11-20T14:00:00.000Z' } });
    expect((await call(h, 'GET', '/v1/refusals?number=0612345678&professional=acme')).json.refusals).toEqual([
      r.json.refusal,
    ]);

    const dnc = await call(h, 'POST', '/v1/dnc', { number: '0612345678', reason: 'complaint' });
    expect(dnc.json).toEqual({ dnc: { number: CONSUMER, reason: 'complaint', addedAt: '2026-11-30T09:30:00.000Z' } });
    expect((await call(h, 'GET', '/v1/dnc?number=0612345678')).json.dnc).toEqual([dnc.json.dnc]);
    expect(codes((await call(h, 'POST', '/v1/check', attempt())).json)).toEqual(
      expect.arrayContaining(['do_not_call']),
    );
    const badList = await call(h, 'GET', '/v1/dnc?number=abc&professional=nobody&x=1');
    expect(badList.status).toBe(400);
    expect(badList.json.error.problems.map((p: { path: string }) => p.path)).toEqual([
      'query.x',
      'query.number',
      'query.professional',
    ]);
  });

  it('a store that fails answers 503 CG_ERR_API_STORE and changes nothing', async () => {
    h = await harness();
    await h.rt.store.close();
    const r = await call(h, 'POST', '/v1/consents', consent());
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('CG_ERR_API_STORE');
    expect(r.json.error.message).toMatch(/^the store failed, nothing was changed: CG_ERR_STORE_FAULT/);
    expect(h.log.lines().some((l) => l.code === 'CG_ERR_API_STORE')).toBe(true);
    h = await harness(); // the closed one is closed again by afterEach's harness: a fresh one
  });
});

describe('GET /v1/numbers/{n}', () => {
  it('counts the attempts of the window and says when the consumer may next be called', async () => {
    h = await harness();
    expect((await call(h, 'GET', '/v1/numbers/0612345678')).json).toMatchObject({
      number: CONSUMER,
      territory: 'FR',
      campaign: 'default',
      nextCallAt: null,
      blockedBy: [{ code: 'no_consent', rule: 'CONS-1' }],
      consent: { status: 'none', regime: 'consent' },
      doNotCall: { listed: false },
      attempts: { counted: 0, max: 4, windowDays: 30 },
    });
    await call(h, 'POST', '/v1/consents', consent());
    const free = await call(h, 'GET', '/v1/numbers/06%2012%2034%2056%2078?campaign=acme-energy');
    expect(free.json).toMatchObject({
      nextCallAt: '2026-11-30T09:30:00.000Z',
      blockedBy: [],
      consent: { status: 'valid' },
    });
    for (const day of ['2026-11-23', '2026-11-24', '2026-11-25', '2026-11-26'])
      expect((await call(h, 'POST', '/v1/attempts', attempt({ at: `${day}T11:00` }))).json.verdict).toBe('allow');
    const full = await call(h, 'GET', '/v1/numbers/0612345678?campaign=acme-energy');
    // the first attempt (Mon 23 Nov, 11:00 Paris) ages out 30 days later: Wed 23 Dec, 11:00 Paris, within calling hours
    expect(full.json).toMatchObject({
      attempts: { counted: 4, max: 4 },
      nextCallAt: '2026-12-23T10:00:00.000Z',
      blockedBy: [{ code: 'frequency_limit', retryAfter: '2026-12-23T10:00:00.000Z' }],
    });
    expect(full.json.attempts.list.map((a: { at: string }) => a.at)).toEqual([
      '2026-11-23T10:00:00.000Z',
      '2026-11-24T10:00:00.000Z',
      '2026-11-25T10:00:00.000Z',
      '2026-11-26T10:00:00.000Z',
    ]);
    await call(h, 'POST', '/v1/dnc', { number: '0612345678', professional: 'acme' });
    const dnc = await call(h, 'GET', '/v1/numbers/0612345678');
    expect(dnc.json).toMatchObject({ nextCallAt: null, doNotCall: { listed: true } });
    expect(dnc.json.blockedBy.map((r: { code: string }) => r.code)).toEqual(
      expect.arrayContaining(['do_not_call', 'frequency_limit']),
    );
    const decisionsBefore = (await h.rt.store.listDecisions({ limit: 100 })).rows.length;
    await call(h, 'GET', '/v1/numbers/0612345678');
    expect((await h.rt.store.listDecisions({ limit: 100 })).rows.length).toBe(decisionsBefore); // a lookup writes nothing
  });

  it('jumps over the hours the law closes: on a Sunday, the next instant is Monday 10:00 local', async () => {
    h = await harness({
      config: apiConfig(undefined, undefined, "clock: {mode: fixed, at: '2026-11-29T11:00:00Z'}"),
    });
    await call(h, 'POST', '/v1/consents', consent());
    const r = await call(h, 'GET', '/v1/numbers/0612345678');
    expect(r.json.blockedBy.map((x: { code: string }) => x.code)).toEqual(['non_working_day']);
    expect(r.json.nextCallAt).toBe('2026-11-30T09:00:00.000Z');
  });

  it('refuses what is not a consumer number', async () => {
    h = await harness();
    const r = await call(h, 'GET', '/v1/numbers/112?campaign=nope');
    expect(r.status).toBe(400);
    expect(r.json.error.problems.map((p: { path: string }) => p.path)).toEqual(['params.n', 'query.campaign']);
  });
});

describe('GET /v1/decisions', () => {
  it('pages by cursor through the filtered decisions, each as `check --json` prints it', async () => {
    h = await harness();
    await call(h, 'POST', '/v1/consents', consent());
    const made: { id: string; verdict: string }[] = [];
    for (const day of ['23', '24', '25', '26', '27'])
      made.push((await call(h, 'POST', '/v1/attempts', attempt({ at: `2026-11-${day}T11:00` }))).json);
    made.push((await call(h, 'POST', '/v1/check', attempt({ to: '0698765432', at: '2026-11-27T12:00' }))).json);
    expect(made.map((d) => d.verdict)).toEqual(['allow', 'allow', 'allow', 'allow', 'block', 'block']);

    const pages: string[][] = [];
    let url = '/v1/decisions?limit=2';
    for (;;) {
      const r = await call(h, 'GET', url);
      expect(r.status).toBe(200);
      pages.push(r.json.decisions.map((d: { id: string }) => d.id));
      if (r.json.next === null) break;
      url = `/v1/decisions?limit=2&cursor=${encodeURIComponent(r.json.next)}`;
    }
    expect(pages).toEqual([
      [made[0]!.id, made[1]!.id],
      [made[2]!.id, made[3]!.id],
      [made[4]!.id, made[5]!.id],
    ]);
    const all = await call(h, 'GET', '/v1/decisions?limit=1000');
    expect(all.json.decisions).toEqual(made);

    const blocked = await call(h, 'GET', '/v1/decisions?verdict=block&reason=frequency_limit&campaign=acme-energy');
    expect(blocked.json.decisions.map((d: { id: string }) => d.id)).toEqual([made[4]!.id]);
    const range = await call(h, 'GET', '/v1/decisions?from=2026-11-24&to=2026-11-26');
    expect(range.json.decisions.map((d: { id: string }) => d.id)).toEqual([made[1]!.id, made[2]!.id]);
  });

  it('refuses bad filters, every one', async () => {
    h = await harness();
    const r = await call(
      h,
      'GET',
      '/v1/decisions?from=yesterday&to=2026-13-01&verdict=maybe&reason=rude&limit=0&cursor=abc',
    );
    expect(r.status).toBe(400);
    expect(r.json.error.problems.map((p: { path: string }) => p.path)).toEqual([
      'query.verdict',
      'query.reason',
      'query.from',
      'query.to',
      'query.limit',
      'query.cursor',
    ]);
    expect((await call(h, 'GET', '/v1/decisions?limit=5000')).json.error.problems).toEqual([
      { path: 'query.limit', message: '"5000" is not in 1..1000' },
    ]);
    expect((await call(h, 'GET', '/v1/decisions?from=2026-11-02&to=2026-11-01')).json.error.problems).toEqual([
      { path: 'query.to', message: 'must be after from' },
    ]);
  });
});

describe('health', () => {
  it('/healthz needs no token; /readyz says whether the store can be written', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'callgate-api-'));
    const file = path.join(dir, 'g.db');
    try {
      h = await harness({ config: apiConfig('', `store: {driver: sqlite, path: '${file}'}`) });
      expect(await call(h, 'GET', '/healthz', undefined, false)).toMatchObject({ status: 200, json: { status: 'ok' } });
      expect(await call(h, 'GET', '/readyz')).toMatchObject({
        status: 200,
        json: { status: 'ready', store: { driver: 'sqlite', writable: true }, pbx: [] },
      });
      // another process holds the write lock (an import): the gate could record nothing now
      const other = new Database(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        const r = await call(h, 'GET', '/readyz');
        expect(r.status).toBe(503);
        expect(r.json).toMatchObject({
          status: 'not ready',
          store: { writable: false },
          error: { code: 'CG_ERR_API_STORE' },
        });
        expect(r.json.store.problem).toMatch(/locked|busy/i);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expect((await call(h, 'GET', '/readyz')).status).toBe(200);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the OpenAPI document', () => {
  it('describes every route, and the answers hold to the schemas it gives', async () => {
    h = await harness();
    const doc = (await call(h, 'GET', '/v1/openapi.json')).json;
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    // a schema on every route: a documented answer, and a body schema for every POST
    const ops = Object.entries(
      doc.paths as Record<string, Record<string, { responses?: object; requestBody?: object }>>,
    ).flatMap(([p, methods]) => Object.entries(methods).map(([m, op]) => ({ p, m, op })));
    expect(ops.length).toBeGreaterThanOrEqual(20);
    for (const { p, m, op } of ops) {
      expect({ p, m, has200: Object.keys(op.responses ?? {}).includes('200') }).toEqual({ p, m, has200: true });
      if (m === 'post') expect({ p, body: op.requestBody !== undefined }).toEqual({ p, body: true });
    }
    // ajv from fastify's own compiler, loose on OpenAPI's keywords (nullable, example)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Ajv = require(require.resolve('ajv', { paths: [require.resolve('@fastify/ajv-compiler')] })).default;
    const ajv = new Ajv({ strict: false, allErrors: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(require.resolve('ajv-formats', { paths: [require.resolve('@fastify/ajv-compiler')] })).default(ajv);
    for (const s of Object.values(doc.components.schemas ?? {}))
      ajv.addSchema(s, `#/components/schemas/${(s as { title?: string }).title}`);
    const schemaOf = (p: string, method: string, status: number) => {
      const content = doc.paths[p][method].responses[String(status)].content;
      return content['application/json'].schema;
    };
    const resolve = (schema: unknown): unknown =>
      JSON.parse(
        JSON.stringify(schema).replace(/\{"\$ref":"#\/components\/schemas\/([^"]+)"\}/g, (_m, name: string) =>
          JSON.stringify(doc.components.schemas[name]),
        ),
      );
    const holds = (p: string, method: string, status: number, body: unknown) => {
      const validate = ajv.compile(resolve(schemaOf(p, method, status)) as object);
      const ok = validate(body);
      expect({ p, status, errors: ok ? null : validate.errors }).toEqual({ p, status, errors: null });
    };
    await call(h, 'POST', '/v1/consents', consent());
    holds('/v1/check', 'post', 200, (await call(h, 'POST', '/v1/check', attempt())).json);
    holds('/v1/attempts', 'post', 200, (await call(h, 'POST', '/v1/attempts', attempt())).json);
    holds('/v1/attempts', 'post', 400, (await call(h, 'POST', '/v1/attempts', {})).json);
    holds('/v1/check', 'post', 401, (await call(h, 'POST', '/v1/check', attempt(), false)).json);
    holds('/v1/numbers/{n}', 'get', 200, (await call(h, 'GET', '/v1/numbers/0612345678')).json);
    holds('/v1/decisions', 'get', 200, (await call(h, 'GET', '/v1/decisions')).json);
    holds('/v1/consents', 'get', 200, (await call(h, 'GET', '/v1/consents?number=0612345678')).json);
    holds(
      '/v1/consents',
      'post',
      200,
      (await call(h, 'POST', '/v1/consents', consent({ slot: '2026-12-01T10:00' }))).json,
    );
    holds(
      '/v1/originate',
      'post',
      503,
      (await call(h, 'POST', '/v1/originate', { ...attempt(), connect: { context: 'a', extension: '1' } })).json,
    );
  });
});
