/**
 * "Did you mean …?" for unknown keys: the known keys at a path are read from
 * the schema itself, so the suggestion can never drift from what is accepted.
 */
type Def = {
  type: string;
  shape?: Record<string, Node>;
  innerType?: Node;
  element?: Node;
  options?: Node[];
  in?: Node;
};
type Node = { _zod: { def: Def } };

/** Keys the schema accepts at `path` (an object path, numbers for list items). */
export function knownKeys(schema: unknown, path: readonly PropertyKey[]): string[] {
  let nodes: Node[] = [schema as Node];
  const unwrap = (n: Node): Node[] => {
    const d = n._zod.def;
    if (d.innerType) return unwrap(d.innerType);
    if (d.type === 'pipe' && d.in) return unwrap(d.in);
    if (d.type === 'union' && d.options) return d.options.flatMap(unwrap);
    return [n];
  };
  nodes = nodes.flatMap(unwrap);
  for (const p of path) {
    nodes = nodes.flatMap((n) => {
      const d = n._zod.def;
      if (typeof p === 'number') return d.type === 'array' && d.element ? unwrap(d.element) : [];
      const child = d.type === 'object' ? d.shape?.[String(p)] : undefined;
      return child ? unwrap(child) : [];
    });
  }
  // a key whose schema accepts nothing (a removed setting, src/config/removed.ts) is not a known key
  const accepted = (shape: Record<string, Node>) =>
    Object.keys(shape).filter((k) => !unwrap(shape[k]!).every((n) => n._zod.def.type === 'never'));
  return [...new Set(nodes.flatMap((n) => (n._zod.def.type === 'object' ? accepted(n._zod.def.shape ?? {}) : [])))];
}

function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i++) {
    const cur = [i];
    for (let j = 1; j <= y.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

/** The closest known key, if close enough to be a typo. */
export function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(key, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}
