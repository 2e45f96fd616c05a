// One walk over parsed JSON for every rule that refuses part of a body: depth first, in document order,
// without recursion (no body can exhaust the stack), stopping at the first thing the rules refuse.
export type JsonPath = Array<string | number>;

export interface JsonFinding {
  path: JsonPath;
  message: string;
}

export interface JsonRules {
  /** Objects and arrays nested deeper than this are refused where the limit is reached. */
  maxDepth: number;
  /** A refusal of a key (with its value, and the path that ends with it), or undefined. */
  key(key: string, value: unknown, path: JsonPath): JsonFinding | undefined;
  /** A reason to refuse a string value, or undefined; strings pass when absent. */
  string?(value: string): string | undefined;
}

export function scanJson(root: unknown, rules: JsonRules, prefix: JsonPath = []): JsonFinding | undefined {
  const stack: Array<{ value: unknown; path: JsonPath; key?: string }> = [{ value: root, path: prefix }];
  while (stack.length > 0) {
    const { value, path, key } = stack.pop()!;
    // A key is judged as the walk reaches it, so the first finding is the first in document order.
    const refusedKey = key === undefined ? undefined : rules.key(key, value, path);
    if (refusedKey) return refusedKey;
    if (typeof value === 'string') {
      const message = rules.string?.(value);
      if (message) return { path, message };
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length - prefix.length >= rules.maxDepth) return { path, message: `nesting deeper than ${rules.maxDepth} levels` };
    // Own enumerable keys: JSON.parse keeps a "__proto__" key as one, which is how the rules can see it.
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((item, index) => [index, item])
      : Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [name, child] = entries[i]!;
      stack.push({ value: child, path: [...path, name], ...(typeof name === 'string' ? { key: name } : {}) });
    }
  }
  return undefined;
}
