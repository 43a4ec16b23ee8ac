/**
 * A tiny interpreter for the Asterisk extensions.conf lines the shipped snippet uses, so the
 * end-to-end tests run the real file, loaded verbatim:
 *   [context]                          contexts
 *   exten => _PATTERN,1,App(data)      first priority (patterns: _ X Z N [..] . !)
 *    same => n(label),App(data)        next priorities, with optional labels
 *   ${VAR} ${EXTEN} ${CONTEXT} ${CALLERID(num)} ${CALLERID(pres)} ${CDR(x)} and $[ a = b ] / != / & / |
 *   ; comments (\; escapes a semicolon)
 * Applications are executed by the simulator (server.ts); this file only parses and evaluates.
 */

export type Step = { priority: number; label?: string; app: string; data: string };
export type Extension = { pattern: string; regex: RegExp; steps: Step[] };
export type Dialplan = Map<string, Extension[]>;

function patternToRegex(p: string): RegExp {
  if (!p.startsWith('_')) return new RegExp('^' + p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
  let re = '^';
  const s = p.slice(1);
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === 'X') re += '[0-9]';
    else if (c === 'Z') re += '[1-9]';
    else if (c === 'N') re += '[2-9]';
    else if (c === '.') re += '.+';
    else if (c === '!') re += '.*';
    else if (c === '[') {
      const end = s.indexOf(']', i);
      re += '[' + s.slice(i + 1, end).replace(/\\/g, '\\\\') + ']';
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

function stripComment(line: string): string {
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\' && line[i + 1] === ';') {
      out += ';';
      i++;
    } else if (line[i] === ';') break;
    else out += line[i];
  }
  return out.trim();
}

/** Splits "App(data)" into its name and data (the last ')' closes it). */
function splitApp(s: string): { app: string; data: string } {
  const open = s.indexOf('(');
  if (open < 0) return { app: s.trim(), data: '' };
  return { app: s.slice(0, open).trim(), data: s.slice(open + 1, s.lastIndexOf(')')) };
}

export function parseDialplan(text: string): Dialplan {
  const plan: Dialplan = new Map();
  let ctx: Extension[] | undefined;
  let current: Extension | undefined;
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = stripComment(raw);
    if (!line) return;
    const head = /^\[([^\]]+)\]$/.exec(line);
    if (head) {
      ctx = [];
      plan.set(head[1] as string, ctx);
      current = undefined;
      return;
    }
    const m = /^(exten|same)\s*=>\s*(.*)$/.exec(line);
    if (!m || !ctx) throw new Error(`dialplan line ${n + 1}: cannot read '${raw.trim()}'`);
    let rest = m[2] as string;
    if (m[1] === 'exten') {
      const c = rest.indexOf(',');
      const pattern = rest.slice(0, c).trim();
      rest = rest.slice(c + 1);
      current = { pattern, regex: patternToRegex(pattern), steps: [] };
      ctx.push(current);
    }
    if (!current) throw new Error(`dialplan line ${n + 1}: 'same' without a preceding 'exten'`);
    const c = rest.indexOf(',');
    const prioText = rest.slice(0, c).trim();
    const pm = /^(\d+|n)(?:\(([^)]+)\))?$/.exec(prioText);
    if (!pm) throw new Error(`dialplan line ${n + 1}: bad priority '${prioText}'`);
    const last = current.steps[current.steps.length - 1];
    const priority = pm[1] === 'n' ? (last ? last.priority + 1 : 1) : Number(pm[1]);
    current.steps.push({ priority, label: pm[2], ...splitApp(rest.slice(c + 1)) });
  });
  return plan;
}

/**
 * The extension Asterisk runs for `exten`: as pbx.c orders a context (ext_cmp), every exact
 * extension comes before any pattern, and patterns compare position by position, the one matching
 * fewer characters at the first difference first ('.' and '!' last); the file order does not matter.
 */
export function findExtension(plan: Dialplan, context: string, exten: string): Extension | undefined {
  const matches = plan.get(context)?.filter((e) => e.regex.test(exten)) ?? [];
  return matches.sort((a, b) => extCmp(a.pattern, b.pattern))[0];
}

/** How many characters one pattern position matches (pbx.c ext_cmp_pattern_pos, simplified). */
function positions(pattern: string): number[] {
  const out: number[] = [];
  const s = pattern.slice(1);
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === 'X') out.push(10);
    else if (c === 'Z') out.push(9);
    else if (c === 'N') out.push(8);
    else if (c === '.') out.push(0x10000);
    else if (c === '!') out.push(0x20000);
    else if (c === '[') {
      const end = s.indexOf(']', i);
      const set = new Set<string>();
      const body = s.slice(i + 1, end);
      for (let j = 0; j < body.length; j++) {
        if (body[j + 1] === '-' && j + 2 < body.length) {
          for (let k = body.charCodeAt(j); k <= body.charCodeAt(j + 2); k++) set.add(String.fromCharCode(k));
          j += 2;
        } else set.add(body[j] as string);
      }
      out.push(set.size);
      i = end;
    } else out.push(1);
  }
  return out;
}

function extCmp(a: string, b: string): number {
  const pa = a.startsWith('_');
  const pb = b.startsWith('_');
  if (!pa && !pb) return a < b ? -1 : a > b ? 1 : 0;
  if (!pa) return -1;
  if (!pb) return 1;
  const x = positions(a);
  const y = positions(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return (x[i] as number) - (y[i] as number);
  return x.length - y.length;
}

/** Reads a variable or function the way the snippet uses them. */
export type VarReader = (name: string) => string;

/** Substitutes ${…} (innermost first) and evaluates $[…]. */
export function substitute(s: string, read: VarReader): string {
  let out = s;
  for (let guard = 0; guard < 100; guard++) {
    const v = /\$\{([^${}]*)\}/.exec(out);
    if (v) {
      out = out.slice(0, v.index) + read(v[1] as string) + out.slice(v.index + v[0].length);
      continue;
    }
    const e = /\$\[([^[\]]*)\]/.exec(out);
    if (e) {
      out = out.slice(0, e.index) + evalExpr(e[1] as string) + out.slice(e.index + e[0].length);
      continue;
    }
    return out;
  }
  throw new Error(`dialplan: substitution does not terminate in '${s}'`);
}

/** $[ ] expressions: | & = != on (optionally quoted) strings, as Asterisk's expression parser. */
function evalExpr(expr: string): string {
  const or = expr.split('|');
  if (or.length > 1) return or.some((p) => truthy(evalExpr(p))) ? '1' : '0';
  const and = expr.split('&');
  if (and.length > 1) return and.every((p) => truthy(evalExpr(p))) ? '1' : '0';
  const ne = expr.split('!=');
  if (ne.length === 2) return unquote(ne[0] as string) !== unquote(ne[1] as string) ? '1' : '0';
  const eq = expr.split('=');
  if (eq.length === 2) return unquote(eq[0] as string) === unquote(eq[1] as string) ? '1' : '0';
  return unquote(expr);
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

export function truthy(s: string): boolean {
  const t = s.trim();
  return t !== '' && t !== '0';
}
