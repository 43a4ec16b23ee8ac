/** The process logger: JSON lines, level from config, credentials redacted, written in blocks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LogBuffer } from '../../src/gate/log-buffer';
import { createLogger, infoLineWriter } from '../../src/gate/logger';
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
