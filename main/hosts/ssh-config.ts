/**
 * Reads OpenSSH client config the way ssh(1) does, for import only.
 *
 * Match blocks are recorded but never evaluated: `Match exec` would run a command, and an import
 * preview must not have side effects. Nothing in this file may start a process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HostInput } from '../../preload/api.js';
import { invalidInput } from '../core/errors.js';
import { expandHome } from './validation.js';

/** ssh's READCONF_MAX_DEPTH. */
export const MAX_INCLUDE_DEPTH = 16;

export interface SshOption {
  /** Lower-cased, as ssh compares keywords. */
  keyword: string;
  args: string[];
  source: string;
}

export interface SshHostBlock {
  kind: 'host';
  /** Patterns of the `Host` line; `['*']` for options before the first Host line. */
  patterns: string[];
  /** Patterns of enclosing Host blocks when this block came from an Include inside them: all must match too. */
  within: string[][];
  options: SshOption[];
  source: string;
}

export interface SshMatchBlock {
  kind: 'match';
  /** The criteria text as written; never evaluated. */
  criteria: string;
  options: SshOption[];
  source: string;
}

export type SshConfigBlock = SshHostBlock | SshMatchBlock;

export interface ParsedSshConfig {
  file: string;
  /** The home folder ~ and %d expanded to. */
  homeDir: string;
  blocks: SshConfigBlock[];
  warnings: string[];
}

export interface SshConfigReadOptions {
  homeDir: string;
  /** Default fs.readFileSync(p, 'utf8'); throws ENOENT for a missing file. */
  readFile?: (file: string) => string;
  /** Default fs.readdirSync(dir); names of the entries of a folder, used to expand Include wildcards. */
  listDir?: (dir: string) => string[];
}

export interface SshConfigCandidate {
  alias: string;
  input: HostInput;
  /** Where the alias was first named, e.g. ~/.ssh/config:4. */
  source: string;
}

interface ParseState {
  opts: Required<SshConfigReadOptions>;
  blocks: SshConfigBlock[];
  warnings: string[];
}

/** The block new options go to, and what Host lines inside an Include must also satisfy. */
interface Scope {
  block: SshConfigBlock | null;
  patterns: string[] | null;
  within: string[][];
  insideMatch: boolean;
}

function displayPath(file: string, homeDir: string): string {
  const rel = path.relative(homeDir, file);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel.split(path.sep).join('/')}` : file;
}

/** ssh's argv_split with comment termination: quotes group, backslash escapes quotes, backslash and space. */
export function splitArgs(text: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '#') break;
    let arg = '';
    let quote: string | null = null;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      const next = text[i + 1];
      if (ch === '\\' && next !== undefined && (next === "'" || next === '"' || next === '\\' || (quote === null && next === ' '))) {
        arg += next;
        i++;
      } else if (quote === null && (ch === ' ' || ch === '\t')) {
        break;
      } else if (quote === null && (ch === '"' || ch === "'")) {
        quote = ch;
      } else if (quote !== null && ch === quote) {
        quote = null;
      } else {
        arg += ch;
      }
    }
    if (quote !== null) return null;
    args.push(arg);
  }
  return args;
}

/** Splits `Keyword args`, `Keyword=args` and `Keyword = args`; null for blank and comment lines. */
export function splitConfigLine(line: string): { keyword: string; rest: string } | null {
  const trimmed = line.replace(/[\s\f]+$/, '').replace(/^\s+/, '');
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const m = /^([^\s=]+)\s*(?:=\s*)?(.*)$/.exec(trimmed);
  if (!m) return null;
  return { keyword: m[1]!.toLowerCase(), rest: m[2]! };
}

const WILDCARD_CHARS = /[*?]/;

function wildcardRegExp(pattern: string, flags: string): RegExp {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, flags);
}

/** ssh's match_pattern: `*` any run, `?` one character; case-insensitive like ssh's lower-cased host. */
export function matchPattern(text: string, pattern: string): boolean {
  return wildcardRegExp(pattern, 'is').test(text);
}

/** A Host line applies when some pattern matches and no negated (`!`) pattern does. */
export function hostPatternsMatch(alias: string, patterns: string[]): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (matchPattern(alias, pattern.slice(1))) return false;
    } else if (matchPattern(alias, pattern)) {
      matched = true;
    }
  }
  return matched;
}

function globFiles(pattern: string, state: ParseState): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (WILDCARD_CHARS.test(dir)) {
    state.warnings.push(`Include ${pattern}: wildcards are only supported in the last part of the path; it was skipped.`);
    return [];
  }
  if (!WILDCARD_CHARS.test(base)) return [pattern];
  let names: string[];
  try {
    names = state.opts.listDir(dir);
  } catch {
    return [];
  }
  // glob(3) does not let a wildcard match a leading dot, and returns names sorted.
  return names
    .filter((n) => (base.startsWith('.') || !n.startsWith('.')) && wildcardRegExp(base, 's').test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

function resolveIncludePath(arg: string, homeDir: string): string | null {
  if (/^~[^/]/.test(arg)) return null;
  const expanded = expandHome(arg, homeDir);
  // ssh resolves relative Include paths of the user config against ~/.ssh.
  return path.isAbsolute(expanded) ? expanded : path.join(homeDir, '.ssh', expanded);
}

function ensureBlock(scope: Scope, state: ParseState, source: string): SshConfigBlock {
  if (scope.block) return scope.block;
  const block: SshHostBlock = { kind: 'host', patterns: scope.patterns ?? ['*'], within: scope.within, options: [], source };
  state.blocks.push(block);
  scope.block = block;
  return block;
}

function includeFiles(args: string[], where: string, scope: Scope, state: ParseState, depth: number): void {
  if (scope.insideMatch) {
    state.warnings.push(`Include at ${where} was skipped: it is inside a Match block, which Fleetwake does not evaluate.`);
    return;
  }
  if (depth >= MAX_INCLUDE_DEPTH) {
    state.warnings.push(`Include at ${where} was skipped: includes are nested more than ${MAX_INCLUDE_DEPTH} deep (a file may include itself).`);
    return;
  }
  const childWithin = scope.patterns ? [...scope.within, scope.patterns] : scope.within;
  for (const arg of args) {
    const resolved = resolveIncludePath(arg, state.opts.homeDir);
    if (resolved === null) {
      state.warnings.push(`Include ${arg} at ${where} was skipped: ~user paths are not supported; write the full path.`);
      continue;
    }
    const files = globFiles(resolved, state);
    if (files.length === 0) {
      state.warnings.push(`Include ${arg} at ${where} matched no files; it was skipped.`);
      continue;
    }
    for (const file of files) {
      let text: string;
      try {
        text = state.opts.readFile(file);
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (err as Error).message;
        state.warnings.push(`Include ${displayPath(file, state.opts.homeDir)} at ${where} was skipped: ${reason}.`);
        continue;
      }
      parseText(text, file, { block: null, patterns: scope.patterns, within: scope.within, insideMatch: false }, state, depth + 1, childWithin);
    }
  }
  // After an Include ssh restores the enclosing block, so later options belong to it again.
  scope.block = null;
}

function parseText(text: string, file: string, scope: Scope, state: ParseState, depth: number, hostWithin: string[][]): void {
  const shown = displayPath(file, state.opts.homeDir);
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const where = `${shown}:${index + 1}`;
    const parts = splitConfigLine(line);
    if (!parts) return;
    const { keyword, rest } = parts;
    if (keyword === 'match') {
      const block: SshMatchBlock = { kind: 'match', criteria: rest.trim(), options: [], source: where };
      state.blocks.push(block);
      const runsCommand = /(^|\s)!?exec(\s|=|$)/i.test(rest);
      state.warnings.push(
        `Match block at ${where} was skipped: Fleetwake does not evaluate Match${runsCommand ? ' (its "exec" is never run)' : ''}. Copy its settings into a Host block to import them.`,
      );
      Object.assign(scope, { block, patterns: null, within: hostWithin, insideMatch: true });
      return;
    }
    const args = splitArgs(rest);
    if (args === null) {
      state.warnings.push(`Line ${where} was skipped: a quote is not closed.`);
      return;
    }
    if (keyword === 'host') {
      if (args.length === 0) {
        state.warnings.push(`Host line at ${where} has no patterns; it was skipped.`);
        return;
      }
      const block: SshHostBlock = { kind: 'host', patterns: args, within: hostWithin, options: [], source: where };
      state.blocks.push(block);
      Object.assign(scope, { block, patterns: args, within: hostWithin, insideMatch: false });
      return;
    }
    if (args.length === 0) {
      state.warnings.push(`Line ${where} was skipped: "${keyword}" has no value.`);
      return;
    }
    if (keyword === 'include') {
      includeFiles(args, where, scope, state, depth);
      return;
    }
    ensureBlock(scope, state, where).options.push({ keyword, args, source: where });
  });
}

/** Parses a user ssh config with its Includes expanded in place. Throws invalid-input (field `file`) when the file is missing. */
export function parseSshConfig(file: string, opts: SshConfigReadOptions): ParsedSshConfig {
  const state: ParseState = {
    opts: {
      homeDir: opts.homeDir,
      readFile: opts.readFile ?? ((p) => fs.readFileSync(p, 'utf8')),
      listDir: opts.listDir ?? ((d) => fs.readdirSync(d)),
    },
    blocks: [],
    warnings: [],
  };
  let text: string;
  try {
    text = state.opts.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw invalidInput('file', `No SSH config at ${file}. Choose the file with the "Choose file" button, or give its full path.`);
    }
    throw invalidInput('file', `Could not read the SSH config at ${file} (${(err as Error).message}). Check that it is a readable file.`);
  }
  parseText(text, file, { block: null, patterns: null, within: [], insideMatch: false }, state, 0, []);
  return { file, homeDir: opts.homeDir, blocks: state.blocks, warnings: state.warnings };
}

function isConcreteAlias(pattern: string): boolean {
  return !pattern.startsWith('!') && !WILDCARD_CHARS.test(pattern);
}

/** Options that apply to an alias, first value winning as in ssh; IdentityFile keeps every value. */
export function effectiveOptions(parsed: ParsedSshConfig, alias: string): Map<string, string[][]> {
  const result = new Map<string, string[][]>();
  for (const block of parsed.blocks) {
    if (block.kind !== 'host') continue;
    if (!hostPatternsMatch(alias, block.patterns)) continue;
    if (!block.within.every((patterns) => hostPatternsMatch(alias, patterns))) continue;
    for (const option of block.options) {
      const values = result.get(option.keyword);
      if (!values) result.set(option.keyword, [option.args]);
      else if (option.keyword === 'identityfile') values.push(option.args);
    }
  }
  return result;
}

function expandTokens(text: string, tokens: Record<string, string>, what: string, warnings: { push(w: string): unknown }): string {
  return text.replace(/%(.)/g, (whole, letter: string) => {
    const value = tokens[letter];
    if (value !== undefined) return value;
    warnings.push(`${what}: the token ${whole} is not supported; it was left as is.`);
    return whole;
  });
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]` to its host part. */
function jumpHostOf(spec: string): string {
  let rest = spec.startsWith('ssh://') ? spec.slice('ssh://'.length) : spec;
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  const bracketed = /^\[([^\]]+)\]/.exec(rest);
  if (bracketed) return bracketed[1]!;
  const colon = rest.indexOf(':');
  return colon >= 0 ? rest.slice(0, colon) : rest;
}

function localUserName(): string {
  try {
    return process.env.USER ?? os.userInfo().username;
  } catch {
    return '';
  }
}

function candidateFor(parsed: ParsedSshConfig, alias: string, source: string, aliases: Map<string, string>): SshConfigCandidate {
  const options = effectiveOptions(parsed, alias);
  const first = (keyword: string) => options.get(keyword)?.[0]?.[0];
  const homeDir = parsed.homeDir;
  // Warnings join the parse warnings once, however often candidates are computed.
  const warnings = { push: (w: string) => void (parsed.warnings.includes(w) || parsed.warnings.push(w)) };
  const input: HostInput = { name: alias, host: alias };

  const hostName = first('hostname');
  if (hostName !== undefined) input.host = expandTokens(hostName, { h: alias, '%': '%' }, `HostName of ${alias}`, warnings);
  const user = first('user');
  if (user !== undefined) input.user = user;
  const port = first('port');
  if (port !== undefined) input.port = port;

  const identity = first('identityfile');
  if (identity !== undefined && identity.toLowerCase() !== 'none') {
    const localUser = localUserName();
    const tokens = { d: homeDir, u: localUser, h: input.host, r: input.user ?? localUser, n: alias, p: String(input.port ?? 22), '%': '%' };
    input.identityFile = expandHome(expandTokens(identity, tokens, `IdentityFile of ${alias}`, warnings), homeDir);
  }

  // ssh reads only these files for the host (Fleetwake reads them besides its usual ones).
  const knownHosts = options.get('userknownhostsfile')?.[0];
  if (knownHosts !== undefined) {
    const localUser = localUserName();
    const tokens = { d: homeDir, u: localUser, h: input.host, r: input.user ?? localUser, n: alias, p: String(input.port ?? 22), '%': '%' };
    const files = knownHosts
      .filter((f) => f.toLowerCase() !== 'none' && f !== '/dev/null')
      .map((f) => expandHome(expandTokens(f, tokens, `UserKnownHostsFile of ${alias}`, warnings), homeDir));
    if (files.length) input.knownHostsFiles = files;
  }

  const proxyJump = first('proxyjump');
  if (proxyJump !== undefined && proxyJump.toLowerCase() !== 'none') {
    // In a chain a,b,c this host connects through c; a and b are c's own way in.
    const direct = proxyJump.split(',').map((s) => s.trim()).filter(Boolean).at(-1);
    if (direct !== undefined) {
      const jumpHost = jumpHostOf(direct);
      const known = aliases.get(jumpHost.toLowerCase());
      input.jump = known ?? jumpHost;
      if (!known) {
        warnings.push(`${alias} jumps through ${jumpHost}, which is not a Host in this file: add ${jumpHost} to Fleetwake first, then import ${alias}.`);
      }
    }
  }

  const proxyCommand = first('proxycommand');
  if (proxyCommand !== undefined && proxyCommand.toLowerCase() !== 'none') {
    warnings.push(`${alias} uses ProxyCommand, which Fleetwake does not support; it was ignored. Use ProxyJump instead.`);
  }
  return { alias, input, source };
}

/** One candidate per concrete alias named on a Host line (no wildcards, no negation), in file order. */
export function sshConfigCandidates(parsed: ParsedSshConfig): SshConfigCandidate[] {
  const firstSeen = new Map<string, { alias: string; source: string }>();
  for (const block of parsed.blocks) {
    if (block.kind !== 'host') continue;
    for (const pattern of block.patterns) {
      if (isConcreteAlias(pattern) && !firstSeen.has(pattern.toLowerCase())) {
        firstSeen.set(pattern.toLowerCase(), { alias: pattern, source: block.source });
      }
    }
  }
  const aliases = new Map([...firstSeen].map(([key, v]) => [key, v.alias]));
  return [...firstSeen.values()].map(({ alias, source }) => candidateFor(parsed, alias, source, aliases));
}
