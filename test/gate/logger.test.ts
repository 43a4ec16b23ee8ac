/** The process logger: JSON lines, level from config, credentials redacted, written in blocks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LogBuffer } from '../../src/gate/log-buffer';
import { createLogger, flushRepeats, infoLineWriter, limitRepeats } from '../../src/gate/logger';
import { scratchDirs } from '../scratch';

const tempDir = scratchDirs('callgate-log-');

function sink(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('createLogger', () => {
  it('writes one JSON line per record, with the level name', () => {
    const s = sink();
    const log = createLogger({ level: 'info', maskNumbers: true }, s.stream);
    log.info({ a: 1 }, 'hello');
    log.debug('not shown at info');
    const lines = s.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'hello', a: 1 });
    expect(typeof lines[0]!.time).toBe('string');
  });

  it('never writes a password, token or secret, even nested', () => {
    const s = sink();
    const log = createLogger({ level: 'trace', maskNumbers: true }, s.stream);
    log.child({ component: 'asterisk' }).info(
      {
        config: { url: 'http://127.0.0.1:8088', password: 'hunter2', inbound: { password: 'ClueCon' } },
        token: 'abc',
      },
      'start',
    );
    const text = JSON.stringify(s.lines());
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('ClueCon');
    expect(text).not.toContain('"abc"');
    expect(text).toContain('http://127.0.0.1:8088');
    expect(text).toContain('[redacted]');
  });

  it('hides the password of a URL in a url field (asterisk.url may carry one)', () => {
    const s = sink();
    const log = createLogger({ level: 'info', maskNumbers: true }, s.stream);
    log.warn({ code: 'CG_ERR_PBX_CONNECT', url: 'http://callgate:hunter2@127.0.0.1:8088' }, 'not reachable yet');
    expect(s.lines()[0]!.url).toBe('http://callgate:***@127.0.0.1:8088');
  });

  it('silent writes nothing', () => {
    const s = sink();
    createLogger({ level: 'silent', maskNumbers: true }, s.stream).fatal('x');
    expect(s.lines()).toEqual([]);
  });
});

describe('infoLineWriter (the decision line)', () => {
  afterEach(() => jest.useRealTimers());

  it('writes byte for byte the line pino writes for the same fields, and respects the level', () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T10:00:00.123Z') });
    const lines: string[] = [];
    const dest = { write: (l: string) => lines.push(l) };
    const log = createLogger({ level: 'info', maskNumbers: true }, dest).child({ component: 'gate' });
    const fields = {
      decisionId: 'id-"1"',
      verdict: 'block',
      reasons: ['outside_calling_hours'],
      tags: ['basis:consent', 'monitor'],
      to: '+336****78',
      callerId: '+331****01',
      campaign: 'cé',
      professional: 'acme',
      monitorOnly: false,
      pbx: 'asterisk',
      channelId: '1700000000.42',
      latencyUs: 123,
    };
    log.info(fields, 'decision');
    const write = infoLineWriter(log)!;
    write(
      Object.entries(fields)
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(','),
      'decision',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(lines[0]);
    log.level = 'warn';
    write('"a":1', 'decision');
    expect(lines).toHaveLength(2);
  });

  it('is not offered for a logger that createLogger did not make (its layout is unknown)', () => {
    expect(infoLineWriter(pino({ level: 'info' }, { write: () => undefined }))).toBeUndefined();
  });
});

describe('error fields', () => {
  function fault(): Error {
    const inner = new Error('disk I/O error');
    return Object.assign(new Error('could not record the decision', { cause: inner }), {
      code: 'SQLITE_IOERR',
      nested: new Error('second fault'),
    });
  }

  it.each(['info', 'warn'] as const)('carry no stack trace at level %s (message, type and code stay)', (level) => {
    const s = sink();
    const log = createLogger({ level, maskNumbers: true }, s.stream);
    log.error({ err: fault() }, 'store fault');
    log.child({ component: 'gate' }).error(fault());
    const lines = s.lines();
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(JSON.stringify(l)).not.toMatch(/"stack"| {4}at /);
      expect(l.err).toMatchObject({ type: 'Error', code: 'SQLITE_IOERR' });
      expect(String((l.err as Record<string, unknown>).message)).toMatch(/could not record the decision/);
    }
  });

  it.each(['debug', 'trace'] as const)('carry the stack trace at level %s', (level) => {
    const s = sink();
    const log = createLogger({ level, maskNumbers: true }, s.stream);
    log.error({ err: fault() }, 'store fault');
    const err = s.lines()[0]!.err as Record<string, unknown>;
    expect(String(err.stack)).toMatch(/could not record the decision\n {4}at /);
  });
});

describe('limitRepeats', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-11-24T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('writes the first lines of a kind in a period, then one summary with the count and the last fields', () => {
    const s = sink();
    const log = createLogger({ level: 'info', maskNumbers: true }, s.stream);
    const limited = limitRepeats(log, { periodMs: 10_000, burst: 3 });
    for (let i = 0; i < 2380; i++) limited.warn('fs.drop', { channel: `c${i}` }, 'dropping the socket');
    limited.warn('other', { n: 1 }, 'another kind has its own count');
    expect(s.lines().map((l) => l.channel ?? l.n)).toEqual(['c0', 'c1', 'c2', 1]);
    jest.advanceTimersByTime(10_000);
    const lines = s.lines();
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatchObject({
      level: 'warn',
      kind: 'fs.drop',
      repeated: 2377,
      periodMs: 10_000,
      channel: 'c2379',
    });
    expect(lines[4]!.msg).toBe('2377 more like this in the last 10 s (left out of the log): dropping the socket');
    // a new period starts afresh; nothing is summed up when nothing was left out
    limited.warn('fs.drop', { channel: 'd0' }, 'dropping the socket');
    jest.advanceTimersByTime(60_000);
    expect(s.lines().slice(5)).toEqual([expect.objectContaining({ channel: 'd0', msg: 'dropping the socket' })]);
  });

  it('keeps the level of the lines it sums up, and respects the logger level', () => {
    const s = sink();
    const log = createLogger({ level: 'error', maskNumbers: true }, s.stream);
    const limited = limitRepeats(log, { periodMs: 1000, burst: 1 });
    limited.warn('w', {}, 'not written at level error');
    limited.error('e', { code: 'CG_ERR_STORE_FAULT' }, 'fail mode decided');
    limited.error('e', { code: 'CG_ERR_STORE_FAULT' }, 'fail mode decided');
    jest.advanceTimersByTime(1000);
    expect(s.lines()).toEqual([
      expect.objectContaining({ level: 'error', msg: 'fail mode decided' }),
      expect.objectContaining({ level: 'error', repeated: 1, kind: 'e', code: 'CG_ERR_STORE_FAULT' }),
    ]);
  });

  it('writes pending summaries at once when the gate stops (flushRepeats on the root logger)', () => {
    const s = sink();
    const log = createLogger({ level: 'info', maskNumbers: true }, s.stream);
    const limited = limitRepeats(log.child({ component: 'freeswitch' }), { periodMs: 60_000, burst: 1 });
    limited.warn('fs.drop', {}, 'dropping the socket');
    limited.warn('fs.drop', {}, 'dropping the socket');
    limited.warn('fs.drop', {}, 'dropping the socket');
    flushRepeats(log);
    expect(s.lines()[1]).toMatchObject({ component: 'freeswitch', repeated: 2 });
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('bufferedDestination', () => {
  it('writes lines in blocks, at most a flush interval late, and what is left at end()', async () => {
    const file = path.join(tempDir(), 'gate.log');
    const dest = new LogBuffer(file, { blockBytes: 100, flushMs: 20 });
    dest.write('{"n":1}\n');
    expect(fs.readFileSync(file, 'utf8')).toBe(''); // below a block, before the timer
    await new Promise((r) => setTimeout(r, 100));
    expect(fs.readFileSync(file, 'utf8')).toBe('{"n":1}\n');
    for (let i = 2; i <= 40; i++) dest.write(`{"n":${i}}\n`);
    dest.end();
    const n = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => (JSON.parse(l) as { n: number }).n);
    expect(n).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(dest.write('{"n":41}\n')).toBe(false); // ended
  });

  it('drops lines past its memory bound instead of growing, and says how many in the next line', () => {
    const file = path.join(tempDir(), 'gate.log');
    const dest = new LogBuffer(file, { blockBytes: 1 << 20, maxPendingBytes: 30, flushMs: 60_000 });
    expect(dest.write('{"n":1}\n')).toBe(true);
    expect(dest.write('{"n":2}\n')).toBe(true);
    expect(dest.write('{"n":3,"padding":"xxxxxxxxxxxx"}\n')).toBe(false);
    dest.end();
    const lines = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.slice(0, 2)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(lines[2]).toMatchObject({ level: 'warn', dropped: 1 });
    expect(String(lines[2]!.msg)).toMatch(/1 log line\(s\) dropped: the log reader is not keeping up/);
  });
});
