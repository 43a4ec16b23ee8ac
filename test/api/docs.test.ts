/**
 * The docs promise only routes the API has: every `GET /…` or `POST /…` that README.md and docs/
 * show is a route of the OpenAPI document, with that method (the docs name no interface callgate
 * does not have).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { call, harness, type Harness } from './helpers';

const root = path.join(__dirname, '..', '..');
const docs = [
  'README.md',
  ...readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

let h: Harness;
afterAll(async () => {
  await h?.close();
});

test('every route the docs show exists, with its method', async () => {
  h = await harness();
  const paths = (await call(h, 'GET', '/v1/openapi.json')).json.paths as Record<string, Record<string, unknown>>;
  // the document's templates as patterns: /v1/numbers/{n} matches /v1/numbers/{n} and /v1/numbers/0612…
  const known = Object.entries(paths).map(([p, ops]) => ({
    re: new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/?]+')}(\\?.*)?$`),
    methods: Object.keys(ops),
  }));
  const shown: string[] = [];
  const unknown: string[] = [];
  for (const doc of docs) {
    const text = readFileSync(path.join(root, doc), 'utf8');
    for (const m of text.matchAll(/\b(GET|POST|PUT|DELETE|PATCH) (\/[A-Za-z0-9_./{}?=&-]*)/g)) {
      const [method, route] = [m[1]!.toLowerCase(), m[2]!.replace(/[.,]$/, '')];
      shown.push(`${method} ${route}`);
      if (!known.some((k) => k.re.test(route) && k.methods.includes(method))) unknown.push(`${doc}: ${m[1]} ${route}`);
    }
  }
  expect(shown.length).toBeGreaterThan(10);
  expect(unknown).toEqual([]);
});
