// Findings not fixed yet, allowed by one file (conformance-allowlist.json at the repo root): each entry names its
// defect, the assembly and a substring (or /regex/) of the finding text. An entry that matches nothing is an error,
// so the list shrinks as defects are fixed and cannot rot.
import * as fs from 'fs';

/** One allowlist entry. */
export interface AllowEntry {
  readonly defect: string;
  readonly assembly: string;
  readonly match: string;
}

/** Reads and checks the allowlist file (a JSON array of entries); a missing file is an empty list. */
export function readAllowlist(file: string): AllowEntry[] {
  if (!fs.existsSync(file)) return [];
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (!Array.isArray(data)) throw new Error(`${file}: expected a JSON array of {defect, assembly, match}`);
  return data.map((e, i) => {
    for (const k of ['defect', 'assembly', 'match']) {
      if (typeof e?.[k] !== 'string' || e[k] === '') throw new Error(`${file}[${i}]: "${k}" must be a non-empty string`);
    }
    return { defect: e.defect, assembly: e.assembly, match: e.match };
  });
}

/** True when an entry's match (substring, or a /regex/ between slashes) matches a finding text. */
export function entryMatches(entry: AllowEntry, text: string): boolean {
  const re = /^\/(.+)\/([a-z]*)$/.exec(entry.match);
  return re ? new RegExp(re[1], re[2]).test(text) : text.includes(entry.match);
}

/** The outcome of applying the allowlist to one assembly's error findings. */
export interface AllowResult {
  /** Findings no entry allows. */
  readonly errors: string[];
  /** Allowed findings with the defect that allows them. */
  readonly allowed: { readonly text: string; readonly defect: string }[];
}

/** Splits an assembly's error texts into allowed and not allowed; records which entries matched in `used`. */
export function applyAllowlist(entries: readonly AllowEntry[], assembly: string, texts: readonly string[], used: Set<AllowEntry>): AllowResult {
  const errors: string[] = [];
  const allowed: { text: string; defect: string }[] = [];
  for (const text of texts) {
    const e = entries.find((x) => x.assembly === assembly && entryMatches(x, text));
    if (e) {
      used.add(e);
      allowed.push({ text, defect: e.defect });
    } else {
      errors.push(text);
    }
  }
  return { errors, allowed };
}

/** Entries (of the given assemblies) that matched no finding: each is an error. */
export function unusedEntries(entries: readonly AllowEntry[], used: ReadonlySet<AllowEntry>, assemblies: readonly string[]): AllowEntry[] {
  return entries.filter((e) => !used.has(e) && assemblies.includes(e.assembly));
}
