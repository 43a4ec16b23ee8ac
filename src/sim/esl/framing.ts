/**
 * Event Socket framing as FreeSWITCH 1.11 writes and reads it (src/sim/fixtures/esl/), for the simulator.
 * Checked byte for byte against the recorded transcripts in src/sim/fixtures/esl/.
 */
import { unescape } from 'node:querystring';

export type Pairs = Array<[string, string]>;

const UNSAFE = new Set('\r\n #%&+:;<=>?@[\\]^`{|}"'.split(''));

/** switch_url_encode: upper-case %XX for unsafe and non-printable bytes; an existing %XX (upper-case hex) is kept. */
export function urlEncode(value: string): string {
  const bytes = Buffer.from(value, 'utf8');
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const c = String.fromCharCode(b);
    if (
      c === '%' &&
      i + 2 < bytes.length &&
      /^[0-9A-F]{2}$/.test(String.fromCharCode(bytes[i + 1] ?? 0, bytes[i + 2] ?? 0))
    ) {
      out += c;
      continue;
    }
    if (b < 0x20 || b > 0x7e || UNSAFE.has(c)) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    else out += c;
  }
  return out;
}

/** switch_event_serialize(…, encode=TRUE): the plain body of an event, or the outbound connect reply. */
export function serializePlain(headers: Pairs, body?: string): string {
  let s = '';
  for (const [k, v] of headers) s += `${k}: ${v === '' ? '_undef_' : urlEncode(v)}\n`;
  if (body !== undefined) s += `Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
  else s += '\n';
  return s;
}

/** switch_event_serialize_json (cJSON unformatted): values are strings, duplicates kept, body as _body. */
export function serializeJson(headers: Pairs, body?: string): string {
  const parts = headers.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  if (body !== undefined) {
    parts.push(`"Content-Length":${JSON.stringify(String(Buffer.byteLength(body)))}`);
    parts.push(`"_body":${JSON.stringify(body)}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * switch_event_xmlize + switch_xml_toxml: two-space indentation, header values URL-encoded, a body
 * after its Content-Length (as recorded from FreeSWITCH 1.11.1: the body text, then the indentation of
 * the closing tag).
 */
export function serializeXml(headers: Pairs, body?: string): string {
  let s = '<event>\n  <headers>\n';
  for (const [k, v] of headers) s += `    <${k}>${urlEncode(v)}</${k}>\n`;
  s += '  </headers>\n';
  if (body !== undefined)
    s += `  <Content-Length>${Buffer.byteLength(body)}</Content-Length>\n  <body>${xmlEscape(body)}  </body>\n`;
  return `${s}</event>\n`;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Envelope of a delivered event: length first, then type. */
export function eventFrame(format: 'json' | 'plain' | 'xml', headers: Pairs, body?: string): string {
  const text =
    format === 'json'
      ? serializeJson(headers, body)
      : format === 'xml'
        ? serializeXml(headers, body)
        : serializePlain(headers, body);
  return `Content-Length: ${Buffer.byteLength(text)}\nContent-Type: text/event-${format}\n\n${text}`;
}

export function commandReply(text: string, extra: Pairs = []): string {
  return `Content-Type: command/reply\nReply-Text: ${text}\n${extra.map(([k, v]) => `${k}: ${v}\n`).join('')}\n`;
}

export function apiResponse(body: string): string {
  return `Content-Type: api/response\nContent-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export const GOODBYE = 'Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n';

export function disconnectNotice(
  controlledUuid?: string,
  disposition?: 'disconnect' | 'linger',
  extra: Pairs = [],
): string {
  let s = 'Content-Type: text/disconnect-notice\n';
  if (controlledUuid !== undefined) s += `Controlled-Session-UUID: ${controlledUuid}\n`;
  if (disposition !== undefined) s += `Content-Disposition: ${disposition}\n`;
  for (const [k, v] of extra) s += `${k}: ${v}\n`;
  const body = disposition === 'linger' ? '' : GOODBYE;
  return `${s}Content-Length: ${Buffer.byteLength(body)}\n\n${body}`;
}

export const AUTH_REQUEST = 'Content-Type: auth/request\n\n';

/** A command as FreeSWITCH parses it: first line, headers (names lower-cased for lookup), optional body. */
export type Command = { line: string; headers: Map<string, string>; body: string; raw: Buffer };

/**
 * Incremental command parser: skips leading blank lines, counts only \n towards the terminator and
 * strips \r, splits headers at the first ':' and skips following spaces, honours Content-Length.
 */
export class CommandParser {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onCommand: (c: Command) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      let start = 0;
      while (start < this.buf.length && (this.buf[start] === 0x0a || this.buf[start] === 0x0d)) start++;
      if (start > 0) this.buf = this.buf.subarray(start);
      let end = -1;
      let lastNl = -1;
      for (let i = 0; i < this.buf.length; i++) {
        const b = this.buf[i];
        if (b === 0x0a) {
          if (lastNl >= 0) {
            end = i + 1;
            break;
          }
          lastNl = i;
        } else if (b !== 0x0d) lastNl = -1;
      }
      if (end < 0) return;
      const head = this.buf.subarray(0, end).toString('utf8').replace(/\r/g, '');
      const lines = head.split('\n').filter((l) => l !== '');
      const headers = new Map<string, string>();
      for (const l of lines.slice(1)) {
        const i = l.indexOf(':');
        if (i < 0) continue;
        headers.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).replace(/^ +/, ''));
      }
      const len = Number(headers.get('content-length') ?? '0');
      if (this.buf.length < end + len) return;
      const body = this.buf.subarray(end, end + len).toString('utf8');
      const raw = this.buf.subarray(0, end + len);
      this.buf = this.buf.subarray(end + len);
      this.onCommand({ line: lines[0] ?? '', headers, body, raw: Buffer.from(raw) });
    }
  }
}

/** Reads a flat JSON object of strings keeping duplicate keys and order (JSON.parse keeps only the last). */
export function jsonPairs(text: string): Pairs {
  const out: Pairs = [];
  const re = /"((?:[^"\\]|\\.)*)":("(?:[^"\\]|\\.)*"|\[[^\]]*\])/gy;
  let i = 1;
  if (text[0] !== '{') throw new Error('not a JSON object');
  for (;;) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) break;
    out.push([JSON.parse(`"${m[1]}"`) as string, JSON.parse(m[2] as string) as string]);
    i = re.lastIndex;
    if (text[i] === ',') i++;
    else break;
  }
  return out;
}

/** Reads a plain header block (Name: url-encoded value) into decoded pairs. */
export function plainPairs(text: string): Pairs {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const i = l.indexOf(': ');
      const v = l.slice(i + 2);
      return [l.slice(0, i), v === '_undef_' ? '' : unescape(v)] as [string, string];
    });
}
