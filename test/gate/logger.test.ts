/** The process logger: JSON lines, level from config, credentials redacted. */
import { Writable } from 'node:stream';
import { createLogger } from '../../src/gate/logger';

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
