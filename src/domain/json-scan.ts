// One walk over parsed JSON for every rule that refuses part of a body: depth first, in document order,
// stopping at the first thing the rules refuse. The walk recurses, but never deeper than the rules' maxDepth
// (checked before descending), so no body can exhaust the stack. It runs on every request, twice for an
// envelope, so it allocates nothing per value it passes: the path is one array, pushed and popped as the walk
// goes, and copied only into a finding.
export type JsonPath = Array<string | number>;

export interface JsonFinding {
  path: JsonPath;
  message: string;
}

export interface JsonRules {
  /** Objects and arrays nested deeper than this are refused where the limit is reached. */
  maxDepth: number;
  /**
   * A refusal of a key (with its value, and the path that ends with it), or undefined. The path is the walk's
   * own and changes after the call returns: a finding may return it, the walk copies it.
   */
  key(key: string, value: unknown, path: JsonPath): JsonFinding | undefined;
  /** A reason to refuse a string value, or undefined; strings pass when absent. */
  string?(value: string): string | undefined;
}

export function scanJson(root: unknown, rules: JsonRules, prefix: JsonPath = []): JsonFinding | undefined {
  const path = [...prefix];
  const found = visit(root, rules, path, prefix.length + rules.maxDepth);
  return found && { path: [...found.path], message: found.message };
}

/** The first finding in `value` (at `path`) and below it; `path` is as it was when this returns nothing. */
function visit(value: unknown, rules: JsonRules, path: JsonPath, deepest: number): JsonFinding | undefined {
  if (typeof value === 'string') {
    const message = rules.string?.(value);
    return message ? { path: [...path], message } : undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (path.length >= deepest) return { path: [...path], message: `nesting deeper than ${rules.maxDepth} levels` };
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      path.push(index);
      const found = visit(value[index], rules, path, deepest);
      if (found) return found;
      path.pop();
    }
    return undefined;
  }
  // Own enumerable keys: JSON.parse keeps a "__proto__" key as one, which is how the rules can see it.
  const object = value as Record<string, unknown>;
  for (const key of Object.keys(object)) {
    const child = object[key];
    path.push(key);
    // A key is judged as the walk reaches it, so the first finding is the first in document order.
    const found = rules.key(key, child, path) ?? visit(child, rules, path, deepest);
    if (found) return found;
    path.pop();
  }
  return undefined;
}
