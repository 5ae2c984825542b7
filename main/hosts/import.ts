import type { ImportCandidate, ImportPreview } from '../../preload/api.js';
import { parseSshConfig, sshConfigCandidates, type SshConfigCandidate, type SshConfigReadOptions } from './ssh-config.js';
import type { HostRecord } from './types.js';
import { checkHostInput, DEFAULT_SSH_PORT, toFieldErrors } from './validation.js';

export interface ImportContext {
  existing: HostRecord[];
  homeDir: string;
  fileExists?: (path: string) => boolean;
  readFile?: SshConfigReadOptions['readFile'];
  listDir?: SshConfigReadOptions['listDir'];
}

/** Only name and jump matter to validation of the other candidates: uniqueness and jump chains. */
function placeholderRecord(candidate: SshConfigCandidate): HostRecord {
  const jump = typeof candidate.input.jump === 'string' && candidate.input.jump.trim() !== '' ? candidate.input.jump.trim() : null;
  return {
    name: candidate.alias,
    host: candidate.alias,
    port: DEFAULT_SSH_PORT,
    user: '',
    identityFile: null,
    passwordEnv: null,
    jump,
    mac: null,
    wolAddress: null,
    wolPort: null,
    knownHostsFiles: [],
  };
}

/**
 * What importing an ssh config would add. A candidate whose name is already stored is flagged `exists`
 * and validated as an edit of that host, so its other problems still show instead of hiding behind the
 * name clash.
 */
export function previewImport(file: string, ctx: ImportContext): ImportPreview {
  const readOptions: SshConfigReadOptions = { homeDir: ctx.homeDir };
  if (ctx.readFile) readOptions.readFile = ctx.readFile;
  if (ctx.listDir) readOptions.listDir = ctx.listDir;
  const parsed = parseSshConfig(file, readOptions);
  const found = sshConfigCandidates(parsed);
  const storedNames = new Set(ctx.existing.map((h) => h.name.toLowerCase()));

  const candidates: ImportCandidate[] = found.map((candidate) => {
    const key = candidate.alias.toLowerCase();
    const exists = storedNames.has(key);
    const others = found.filter((c) => c !== candidate && !storedNames.has(c.alias.toLowerCase())).map(placeholderRecord);
    const validation = {
      existing: [...ctx.existing, ...others],
      homeDir: ctx.homeDir,
      ...(exists ? { editing: candidate.alias } : {}),
      ...(ctx.fileExists ? { fileExists: ctx.fileExists } : {}),
    };
    const { errors } = checkHostInput(candidate.input, validation);
    return { alias: candidate.alias, input: candidate.input, errors: toFieldErrors(errors), exists, source: candidate.source };
  });
  return { file, candidates, warnings: parsed.warnings };
}
