/**
 * A small, strict YAML subset, enough for agent.yaml and nothing more (no dependencies):
 *   - nested maps by indentation (spaces only; tabs are an error)
 *   - scalars: plain, 'single' and "double" quoted strings, numbers, true/false, null/~
 *   - flow lists `[a, b]` of scalars, block lists `- x` of scalars
 *   - comments (`#` at the start of a line or after a space, outside quotes), an optional leading `---`
 * Anything else (anchors, tags, multi-line strings, flow maps, maps inside lists, duplicate keys...) is
 * an error that names the line.
 */

export type YamlScalar = string | number | boolean | null;
export type YamlValue = YamlScalar | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export class YamlError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'YamlError';
  }
}

export interface YamlDocument {
  value: YamlValue;
  /** Line (1-based) of every map key, by dotted path ("metrics.interval_seconds"); list items as "path[i]". */
  lines: Map<string, number>;
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

const KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const NUMBER_RE = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** Removes a comment, honouring quotes that start a token. */
function stripComment(raw: string, no: number): string {
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) {
        if (quote === "'" && raw[i + 1] === "'") i++;
        else quote = null;
      }
      continue;
    }
    const prev = i === 0 ? ' ' : raw[i - 1]!;
    if (c === '#' && (prev === ' ' || prev === '\t' || i === 0)) return raw.slice(0, i);
    if ((c === '"' || c === "'") && /[\s[,:-]/.test(prev)) quote = c;
  }
  if (quote) throw new YamlError(no, `unterminated ${quote === '"' ? 'double' : 'single'}-quoted string`);
  return raw;
}

function splitLines(source: string): Line[] {
  const out: Line[] = [];
  const raw = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  let seenContent = false;
  raw.forEach((text, i) => {
    const no = i + 1;
    const stripped = stripComment(text, no).replace(/\s+$/, '');
    if (stripped.trim() === '') return;
    const lead = /^[ \t]*/.exec(stripped)![0];
    if (lead.includes('\t')) throw new YamlError(no, 'tab in indentation (use spaces)');
    const body = stripped.slice(lead.length);
    if (body === '---' && lead === '') {
      if (seenContent) throw new YamlError(no, 'more than one document (---) is not supported');
      seenContent = true;
      return;
    }
    if (body === '...' && lead === '') throw new YamlError(no, 'document end marker (...) is not supported');
    seenContent = true;
    out.push({ no, indent: lead.length, text: body });
  });
  return out;
}

function parseDoubleQuoted(s: string, no: number): string {
  let out = '';
  let i = 1;
  for (; i < s.length; i++) {
    const c = s[i]!;
    if (c === '"') break;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = s[++i];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case '0': out += '\0'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new YamlError(no, 'bad \\u escape in a double-quoted string');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default:
        throw new YamlError(no, `unknown escape \\${e ?? ''} in a double-quoted string`);
    }
  }
  if (i >= s.length) throw new YamlError(no, 'unterminated double-quoted string');
  if (i !== s.length - 1) throw new YamlError(no, 'unexpected text after a double-quoted string');
  return out;
}

function parseScalar(s: string, no: number): YamlScalar {
  if (s.startsWith('"')) {
    return parseDoubleQuoted(s, no);
  }
  if (s.startsWith("'")) {
    if (s.length < 2 || !s.endsWith("'")) throw new YamlError(no, 'unterminated single-quoted string');
    const inner = s.slice(1, -1);
    if (/'(?!')/.test(inner.replace(/''/g, ''))) throw new YamlError(no, "unexpected ' inside a single-quoted string");
    return inner.replace(/''/g, "'");
  }
  if (s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (NUMBER_RE.test(s)) {
    const n = Number(s);
    if (Number.isFinite(n)) return n;
  }
  const first = s[0]!;
  if ('&*!|>%@`{}[]?,'.includes(first)) {
    throw new YamlError(no, `unsupported YAML syntax at "${s.slice(0, 20)}" (quote the value if it is a string)`);
  }
  if (first === '-' && (s === '-' || s[1] === ' ')) throw new YamlError(no, 'unexpected list item');
  if (/:(\s|$)/.test(s)) throw new YamlError(no, `unexpected ":" in "${s.slice(0, 40)}" (quote the value if it is a string)`);
  if (/\s#/.test(s)) throw new YamlError(no, 'unexpected "#"');
  return s;
}

function parseFlowList(s: string, no: number): YamlScalar[] {
  if (!s.endsWith(']')) throw new YamlError(no, 'a flow list must close with "]" on the same line');
  const inner = s.slice(1, -1).trim();
  if (inner === '') return [];
  const items: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (quote) {
      cur += c;
      if (quote === '"' && c === '\\') cur += inner[++i] ?? '';
      else if (c === quote) quote = null;
      continue;
    }
    if ((c === '"' || c === "'") && cur.trim() === '') quote = c;
    if (c === '[' || c === ']' || c === '{' || c === '}') throw new YamlError(no, 'nested collections in a flow list are not supported');
    if (c === ',') {
      items.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (quote) throw new YamlError(no, 'unterminated quoted string in a flow list');
  items.push(cur.trim());
  if (items[items.length - 1] === '') items.pop(); // trailing comma
  return items.map((item) => {
    if (item === '') throw new YamlError(no, 'empty item in a flow list');
    return parseScalar(item, no);
  });
}

function parseInlineValue(s: string, no: number): YamlValue {
  if (s.startsWith('[')) return parseFlowList(s, no);
  return parseScalar(s, no);
}

function parseKey(text: string, no: number): { key: string; rest: string } {
  let key: string;
  let rest: string;
  if (text.startsWith('"') || text.startsWith("'")) {
    const q = text[0]!;
    let end = 1;
    while (end < text.length) {
      if (q === '"' && text[end] === '\\') end += 2;
      else if (text[end] === q) {
        if (q === "'" && text[end + 1] === "'") end += 2;
        else break;
      } else end++;
    }
    if (end >= text.length) throw new YamlError(no, 'unterminated quoted key');
    key = String(parseScalar(text.slice(0, end + 1), no));
    rest = text.slice(end + 1);
    if (!rest.startsWith(':')) throw new YamlError(no, 'expected ":" after the key');
  } else {
    const m = /^([^:]*?):(?:\s|$)/.exec(text);
    if (!m) throw new YamlError(no, `expected "key: value" (got "${text.slice(0, 40)}")`);
    key = m[1]!;
    rest = text.slice(m[1]!.length);
    if (!KEY_RE.test(key)) throw new YamlError(no, `invalid key "${key.slice(0, 40)}"`);
  }
  return { key, rest: rest.slice(1).trim() };
}

export function parseYaml(source: string): YamlDocument {
  const lines = splitLines(source);
  const keyLines = new Map<string, number>();
  let pos = 0;

  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

  function parseBlock(indent: number, path: string, parentIndent: number): YamlValue {
    const first = lines[pos]!;
    if (first.text === '-' || first.text.startsWith('- ')) return parseList(indent, path, indent === parentIndent);
    return parseMap(indent, path);
  }

  /** `compact`: the list sits at its key's own indentation (`key:\n- a`), so a key line there ends it. */
  function parseList(indent: number, path: string, compact: boolean): YamlValue[] {
    const out: YamlValue[] = [];
    while (pos < lines.length) {
      const line = lines[pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      if (!(line.text === '-' || line.text.startsWith('- '))) {
        if (compact) break;
        throw new YamlError(line.no, 'expected a list item "- value" (a list and a map cannot be mixed)');
      }
      const item = line.text.slice(1).trim();
      if (item === '') throw new YamlError(line.no, 'empty list item (nested blocks in lists are not supported)');
      if (item.startsWith('- ') || /^[^'"[]*?:(\s|$)/.test(item)) {
        throw new YamlError(line.no, 'maps or lists inside a block list are not supported');
      }
      keyLines.set(`${path}[${out.length}]`, line.no);
      out.push(parseInlineValue(item, line.no));
      pos++;
    }
    return out;
  }

  function parseMap(indent: number, path: string): YamlMap {
    const out: YamlMap = {};
    while (pos < lines.length) {
      const line = lines[pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
      if (line.text === '-' || line.text.startsWith('- ')) throw new YamlError(line.no, 'unexpected list item (a map and a list cannot be mixed)');
      const { key, rest } = parseKey(line.text, line.no);
      if (key === '__proto__' || key === 'constructor' || key === 'prototype') throw new YamlError(line.no, `invalid key "${key}"`);
      if (Object.prototype.hasOwnProperty.call(out, key)) throw new YamlError(line.no, `duplicate key "${join(path, key)}"`);
      const keyPath = join(path, key);
      keyLines.set(keyPath, line.no);
      pos++;
      if (rest !== '') {
        out[key] = parseInlineValue(rest, line.no);
        continue;
      }
      const next = lines[pos];
      if (next && (next.indent > indent || (next.indent === indent && (next.text === '-' || next.text.startsWith('- '))))) {
        out[key] = parseBlock(next.indent, keyPath, indent);
      } else {
        out[key] = null;
      }
    }
    return out;
  }

  if (lines.length === 0) return { value: null, lines: keyLines };
  const top = lines[0]!;
  if (top.indent !== 0) throw new YamlError(top.no, 'unexpected indentation');
  let value: YamlValue;
  if (top.text.startsWith('[') || (!top.text.includes(':') && !top.text.startsWith('-') && lines.length === 1)) {
    value = parseInlineValue(top.text, top.no);
    pos = 1;
  } else {
    value = parseBlock(0, '', -1);
  }
  if (pos < lines.length) throw new YamlError(lines[pos]!.no, 'unexpected content');
  return { value, lines: keyLines };
}
