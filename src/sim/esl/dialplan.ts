/**
 * Loads a FreeSWITCH XML dialplan file (the shipped dialplan/freeswitch/callgate.xml, verbatim) into
 * contexts → extensions → conditions → actions, with X-PRE-PROCESS `set` and $${var} expansion, as
 * FreeSWITCH's XML loader and mod_dialplan_xml do for the subset the gate's snippet uses.
 */
import { readFileSync } from 'node:fs';

export type Action = { application: string; data: string };
export type Condition = { field: string; expression: string; actions: Action[]; antiActions: Action[] };
export type Extension = { name: string; conditions: Condition[] };
export type Dialplan = { contexts: Map<string, Extension[]>; preprocess: Map<string, string> };

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\b${name}="([^"]*)"`).exec(tag);
  return m ? unxml(m[1] as string) : undefined;
}

function unxml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** `overrides` replace X-PRE-PROCESS values, as an administrator editing those lines would. */
export function parseDialplan(xml: string, overrides: Record<string, string> = {}): Dialplan {
  const preprocess = new Map<string, string>();
  const noComments = xml.replace(/<!--[\s\S]*?-->/g, '');
  for (const m of noComments.matchAll(/<X-PRE-PROCESS\s+cmd="set"\s+data="([^"=]+)=([^"]*)"\s*\/>/g)) {
    preprocess.set(m[1] as string, m[2] as string);
  }
  for (const [k, v] of Object.entries(overrides)) preprocess.set(k, v);
  const expanded = noComments.replace(/\$\$\{([^}]+)\}/g, (_, name: string) => {
    const v = preprocess.get(name);
    if (v === undefined) throw new Error(`dialplan uses $\${${name}} but nothing sets it`);
    return v;
  });
  const contexts = new Map<string, Extension[]>();
  for (const c of expanded.matchAll(/<context\s+name="([^"]+)"\s*>([\s\S]*?)<\/context>/g)) {
    const exts: Extension[] = [];
    for (const e of (c[2] as string).matchAll(/<extension\s+name="([^"]+)"[^>]*>([\s\S]*?)<\/extension>/g)) {
      const conditions: Condition[] = [];
      for (const cond of (e[2] as string).matchAll(/<condition\b([^>]*?)(\/>|>([\s\S]*?)<\/condition>)/g)) {
        const tag = cond[1] as string;
        const inner = cond[3] ?? '';
        const actions: Action[] = [];
        const antiActions: Action[] = [];
        for (const a of inner.matchAll(/<(action|anti-action)\b([^>]*?)\/>/g)) {
          const act = {
            application: attr(a[2] as string, 'application') ?? '',
            data: attr(a[2] as string, 'data') ?? '',
          };
          (a[1] === 'action' ? actions : antiActions).push(act);
        }
        conditions.push({
          field: attr(tag, 'field') ?? '',
          expression: attr(tag, 'expression') ?? '',
          actions,
          antiActions,
        });
      }
      exts.push({ name: e[1] as string, conditions });
    }
    contexts.set(c[1] as string, exts);
  }
  return { contexts, preprocess };
}

export function loadDialplan(path: string, overrides: Record<string, string> = {}): Dialplan {
  return parseDialplan(readFileSync(path, 'utf8'), overrides);
}

/**
 * The actions of the first matching extension for a destination (conditions ANDed, $1… substituted
 * from the last matching condition's captures), as mod_dialplan_xml's hunt does.
 */
export function hunt(
  dp: Dialplan,
  context: string,
  destination: string,
  vars: (name: string) => string | undefined,
): Action[] | undefined {
  const exts = dp.contexts.get(context);
  if (!exts) return undefined;
  for (const ext of exts) {
    const actions: Action[] = [];
    let ok = true;
    for (const c of ext.conditions) {
      const value =
        c.field === 'destination_number' ? destination : (vars(c.field.replace(/^\$\{(.*)\}$/, '$1')) ?? '');
      const m = c.field === '' ? [''] : new RegExp(c.expression).exec(value);
      if (!m) {
        ok = false;
        break;
      }
      for (const a of c.actions)
        actions.push({
          application: a.application,
          data: a.data.replace(/\$(\d)/g, (_, d: string) => m[Number(d)] ?? ''),
        });
    }
    if (ok) return actions;
  }
  return undefined;
}
