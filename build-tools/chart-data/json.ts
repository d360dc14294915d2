/** A JSON value whose object keys are sorted at every level (arrays keep their order). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as object).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/**
 * Deterministic JSON text with a trailing newline. Arrays of large objects (CRDs) are written one
 * compact element per line, which keeps the data small and its diffs readable; everything else is
 * indented by one space.
 */
export function stableJson(value: unknown, opts: { readonly compactItems?: boolean } = {}): string {
  const sorted = sortKeys(value);
  if (opts.compactItems && Array.isArray(sorted)) {
    return sorted.length ? `[\n${sorted.map((v) => JSON.stringify(v)).join(',\n')}\n]\n` : '[]\n';
  }
  return `${JSON.stringify(sorted, undefined, 1)}\n`;
}
