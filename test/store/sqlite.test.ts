import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openStore } from '../../src/store';
import { runStoreContract } from './contract';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'callgate-sqlite-contract-'));
let n = 0;
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

runStoreContract('sqlite (file, WAL)', () =>
  openStore({ driver: 'sqlite', path: path.join(dir, `contract-${++n}.db`) }),
);
runStoreContract('sqlite (:memory:)', () => openStore({ driver: 'sqlite', path: ':memory:' }));
