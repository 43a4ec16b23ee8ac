/** Reads the recorded Event Socket samples (src/sim/fixtures/esl/samples/NN-*.txt): one message per block, bytes verbatim. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESL_FIXTURES } from './paths';

export type Block = { conn: string; ms: number; from: string; to: string; bytes: Buffer };

export const FIXTURES = ESL_FIXTURES;

export function readSample(name: string): Block[] {
  const b = readFileSync(join(FIXTURES, 'samples', name));
  const re = /----- (\S+) \[\+(\d+)ms\] (\S+) -> (\S+) \((\d+) bytes\) -----\n/g;
  const text = b.toString('latin1');
  const out: Block[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const n = Number(m[5]);
    const start = re.lastIndex;
    out.push({
      conn: m[1] as string,
      ms: Number(m[2]),
      from: m[3] as string,
      to: m[4] as string,
      bytes: b.subarray(start, start + n),
    });
    re.lastIndex = start + n;
  }
  return out;
}

/** Splits a FreeSWITCH → client byte stream into messages (header block + Content-Length body). */
export function splitMessages(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const end = buf.indexOf('\n\n', i);
    if (end < 0) break;
    const head = buf.subarray(i, end).toString('utf8');
    const m = /^Content-Length: (\d+)$/m.exec(head);
    const len = m ? Number(m[1]) : 0;
    out.push(buf.subarray(i, end + 2 + len));
    i = end + 2 + len;
  }
  return out;
}
