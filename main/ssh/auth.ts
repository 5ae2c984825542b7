import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AnyAuthMethod, AuthHandlerMiddleware, KeyboardInteractiveCallback, ParsedKey, Prompt as Ssh2Prompt } from 'ssh2';
import type { PromptKind } from '../../preload/api.js';
import type { HostRecord } from '../hosts/types.js';
import type { SecretKind } from '../secrets/types.js';
import { loadSsh2 } from './ssh2.js';

export interface PromptRequest {
  kind: PromptKind;
  title: string;
  instructions: string;
  prompts: { text: string; echo: boolean }[];
}

export interface PromptAnswer {
  answers: string[];
  remember: boolean;
}

/** Where authentication gets what it needs: stored secrets, environment variables, and the user. */
export interface Credentials {
  /**
   * A stored or session secret kept for this `binding` (secretBinding: user@host:port and the host
   * key this handshake verified), or the password from the host's passwordEnv variable.
   */
  secret(host: HostRecord, kind: SecretKind, binding: string): string | undefined;
  /** Whether a secret is kept for the host but for another binding (it was not used, so say why when asking). */
  boundElsewhere(host: HostRecord, kind: SecretKind, binding: string): boolean;
  /** Ask the user; resolves null when nobody can answer (no UI, no terminal) or they cancel. */
  ask(host: HostRecord, request: PromptRequest): Promise<PromptAnswer | null>;
  /** Called once authentication succeeded with a secret the user typed; kept for `binding` only. */
  remember(host: HostRecord, kind: SecretKind, value: string, persist: boolean, binding: string): void;
}

export interface AuthSession {
  handler: AuthHandlerMiddleware;
  /** What was tried, for the auth-failed message. */
  notes: string[];
  /** Secrets typed during this attempt, to keep once the server accepted them. */
  typed: { kind: SecretKind; value: string; persist: boolean }[];
}

const DEFAULT_IDENTITIES = ['id_ed25519', 'id_ecdsa', 'id_rsa'];
const MAX_PASSPHRASE_TRIES = 3;

type Step =
  | { method: 'agent'; socket: string }
  | { method: 'publickey'; file: string; explicit: boolean }
  | { method: 'password' }
  | { method: 'keyboard-interactive' };

function plan(host: HostRecord, homeDir: string, agentSocket: string | undefined): Step[] {
  const steps: Step[] = [];
  if (agentSocket) steps.push({ method: 'agent', socket: agentSocket });
  if (host.identityFile) {
    steps.push({ method: 'publickey', file: host.identityFile, explicit: true });
  } else {
    for (const name of DEFAULT_IDENTITIES) {
      const file = join(homeDir, '.ssh', name);
      if (existsSync(file)) steps.push({ method: 'publickey', file, explicit: false });
    }
  }
  steps.push({ method: 'password' }, { method: 'keyboard-interactive' });
  return steps;
}

const isEncryptedKeyError = (e: Error) => /no passphrase given/i.test(e.message);

type ParseKey = (data: Buffer, passphrase?: string) => ParsedKey | ParsedKey[] | Error;

/** A file holding several keys (OpenSSH format allows it) authenticates with its first, as ssh2's connect() does. */
function firstKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(parsed) ? (parsed[0] ?? new Error('no key in the file')) : parsed;
}

/**
 * Unencrypted identity files, parsed once per content for the life of the process: a status over 20
 * hosts that share one key parses it once instead of twice per host (here and again inside ssh2, which
 * takes the parsed key as is). Keyed by the sha256 of the file's bytes, so an edited or replaced file is
 * parsed afresh. Encrypted keys are never kept decrypted here; they are parsed per attempt.
 */
const plainKeys = new Map<string, ParsedKey>();
const MAX_PLAIN_KEYS = 16;

function parsePlainKey(parseKey: ParseKey, raw: Buffer): ParsedKey | Error {
  const id = createHash('sha256').update(raw).digest('base64');
  const hit = plainKeys.get(id);
  if (hit) return hit;
  const parsed = firstKey(parseKey(raw));
  if (parsed instanceof Error) return parsed;
  if (plainKeys.size >= MAX_PLAIN_KEYS) plainKeys.delete(plainKeys.keys().next().value!);
  plainKeys.set(id, parsed);
  return parsed;
}
const isBadPassphraseError = (e: Error) => /bad passphrase|integrity check failed|decrypt/i.test(e.message);

/**
 * Builds ssh2's auth handler: agent, then the identity file (asking for its passphrase), then
 * password, then keyboard-interactive. Each step is skipped when the server does not offer it.
 * `pause`/`resume` bracket every question so connect deadlines wait for the user.
 */
export function createAuthSession(opts: {
  host: HostRecord;
  homeDir: string;
  agentSocket: string | undefined;
  credentials: Credentials;
  pause: () => void;
  resume: () => void;
  isCancelled: () => boolean;
  /** The binding of this attempt (user@host:port and the verified host key), known once the key was checked. */
  binding: () => string;
}): AuthSession {
  const { host, credentials } = opts;
  const steps = plan(host, opts.homeDir, opts.agentSocket);
  const notes: string[] = [];
  const typed: AuthSession['typed'] = [];
  let index = 0;

  /** Why a kept secret was not used, for the question that replaces it. */
  const staleNote = (kind: SecretKind): string =>
    credentials.boundElsewhere(host, kind, opts.binding())
      ? ` The ${kind} saved for ${host.name} was kept for another server, port, user or host key, so it was not sent; this is ${opts.binding()}.`
      : '';

  const ask = async (request: PromptRequest): Promise<PromptAnswer | null> => {
    opts.pause();
    try {
      return await credentials.ask(host, request);
    } finally {
      opts.resume();
    }
  };

  const publicKeyAuth = async (file: string, explicit: boolean): Promise<AnyAuthMethod | null> => {
    let raw: Buffer;
    try {
      raw = readFileSync(file);
    } catch (err) {
      notes.push(`identity file ${file} could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return null;
    }
    const parseKey = (await loadSsh2()).utils.parseKey as ParseKey;
    let parsed = parsePlainKey(parseKey, raw);
    if (!(parsed instanceof Error)) return { type: 'publickey', username: host.user, key: parsed };
    if (!isEncryptedKeyError(parsed)) {
      notes.push(`identity file ${file} is not a private key ssh2 can read (${parsed.message})`);
      return null;
    }
    const stored = credentials.secret(host, 'passphrase', opts.binding());
    if (stored !== undefined && !((parsed = firstKey(parseKey(raw, stored))) instanceof Error)) {
      return { type: 'publickey', username: host.user, key: parsed };
    }
    // Default keys are only worth a question when the user named no key at all, as ssh does.
    for (let attempt = 1; attempt <= MAX_PASSPHRASE_TRIES; attempt++) {
      const answer = await ask({
        kind: 'passphrase',
        title: `Passphrase for ${host.name}`,
        instructions:
          attempt === 1
            ? `Enter the passphrase for the key ${file}.${staleNote('passphrase')}`
            : `That passphrase did not unlock ${file}. Try again (${attempt} of ${MAX_PASSPHRASE_TRIES}).`,
        prompts: [{ text: 'Passphrase', echo: false }],
      });
      if (!answer || opts.isCancelled()) {
        notes.push(`passphrase for ${file} was not given`);
        return null;
      }
      const passphrase = answer.answers[0] ?? '';
      parsed = firstKey(parseKey(raw, passphrase));
      if (!(parsed instanceof Error)) {
        typed.push({ kind: 'passphrase', value: passphrase, persist: answer.remember });
        return { type: 'publickey', username: host.user, key: parsed };
      }
      if (!isBadPassphraseError(parsed)) break;
    }
    notes.push(`wrong passphrase for ${file}`);
    void explicit;
    return null;
  };

  const passwordFor = async (purpose: string): Promise<string | null> => {
    const known = credentials.secret(host, 'password', opts.binding());
    if (known !== undefined) return known;
    const answer = await ask({
      kind: 'password',
      title: `Password for ${host.user}@${host.name}`,
      instructions: purpose + staleNote('password'),
      prompts: [{ text: 'Password', echo: false }],
    });
    if (!answer || opts.isCancelled()) return null;
    const value = answer.answers[0] ?? '';
    typed.push({ kind: 'password', value, persist: answer.remember });
    return value;
  };

  const keyboardInteractive = (): AnyAuthMethod => ({
    type: 'keyboard-interactive',
    username: host.user,
    prompt: (name: string, instructions: string, _lang: string, prompts: Ssh2Prompt[], finish: KeyboardInteractiveCallback) => {
      void (async () => {
        if (prompts.length === 0) return finish([]);
        // PAM's single "Password:" question is answered with the known password, without asking.
        const known = credentials.secret(host, 'password', opts.binding());
        if (known !== undefined && prompts.length === 1 && /password/i.test(prompts[0]!.prompt) && !prompts[0]!.echo) {
          return finish([known]);
        }
        const answer = await ask({
          kind: 'keyboard-interactive',
          title: name || `${host.name} asks`,
          instructions: instructions || `The server ${host.host} asks:`,
          prompts: prompts.map((p) => ({ text: p.prompt.replace(/:\s*$/, ''), echo: !!p.echo })),
        });
        if (!answer) {
          notes.push('keyboard-interactive was cancelled');
          return finish([]);
        }
        if (prompts.length === 1 && /password/i.test(prompts[0]!.prompt)) {
          typed.push({ kind: 'password', value: answer.answers[0] ?? '', persist: answer.remember });
        }
        finish(answer.answers);
      })();
    },
  });

  const handler: AuthHandlerMiddleware = (methodsLeft, _partial, next) => {
    void (async () => {
      while (index < steps.length && !opts.isCancelled()) {
        const step = steps[index++]!;
        const offered = (m: string) => !methodsLeft || methodsLeft.includes(m as never);
        if (step.method === 'agent') {
          if (offered('publickey')) return next({ type: 'agent', username: host.user, agent: step.socket });
        } else if (step.method === 'publickey') {
          if (!offered('publickey')) continue;
          const auth = await publicKeyAuth(step.file, step.explicit);
          if (auth) return next(auth);
        } else if (step.method === 'password') {
          if (!offered('password')) continue;
          const password = await passwordFor(`Enter the password for ${host.user} on ${host.host}.`);
          if (password !== null) return next({ type: 'password', username: host.user, password });
          notes.push('no password was given');
        } else if (step.method === 'keyboard-interactive') {
          if (offered('keyboard-interactive')) return next(keyboardInteractive());
        }
      }
      (next as unknown as (a: false) => void)(false);
    })().catch(() => (next as unknown as (a: false) => void)(false));
  };

  return { handler, notes, typed };
}
