/**
 * Which local files a front may make the core read on its behalf. The renderer is the least trusted
 * part of the desktop app: a key file (identityFile) or an ssh config to import that it names could be
 * any file the user can read. The Electron front therefore limits them to files under ~/.ssh and files
 * the user picked in a native dialog; the CLI passes no policy (the user typed the path).
 */
import fs from 'node:fs';
import path from 'node:path';
import { FleetError } from '../core/errors.js';
import { expandHome } from './validation.js';

export interface LocalFilePolicy {
  /** Folders whose files (at any depth) may be named, e.g. ~/.ssh. */
  allowedDirs: readonly string[];
  /** Files the user picked in a native open dialog (absolute paths); `chooseLocalFile` adds to it. */
  pickedFiles?: Set<string>;
}

/** The path with symlinks resolved as far as it exists (a link in ~/.ssh to /etc/shadow is /etc/shadow). */
function real(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync.native(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(real(parent), path.basename(abs));
  }
}

function inside(file: string, dir: string): boolean {
  const rel = path.relative(dir, file);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/**
 * Throws FleetError 'invalid-input' on `field` when `policy` does not allow `file` (`~` expanded against
 * homeDir). No policy: everything is allowed. Checked before the file is looked at, so a refused path
 * reveals nothing about the file (not even whether it exists).
 */
export function checkLocalFile(policy: LocalFilePolicy | undefined, file: string, field: string, what: string, homeDir: string): void {
  if (!policy) return;
  const expanded = expandHome(file.trim(), homeDir);
  if (!path.isAbsolute(expanded)) return; // validation names the problem of a relative path
  const target = real(expanded);
  const picked = [...(policy.pickedFiles ?? [])].some((p) => real(p) === target);
  if (picked || policy.allowedDirs.some((d) => inside(target, real(d)))) return;
  const dirs = policy.allowedDirs.map((d) => (d.startsWith(homeDir + path.sep) ? `~${d.slice(homeDir.length)}` : d)).join(' or ');
  throw new FleetError(
    'invalid-input',
    `${what} "${file}" is outside ${dirs || 'the allowed folders'} and was not chosen in a file dialog, so Fleetwake will not read it. ` +
      `Move or copy the file into ${dirs || 'an allowed folder'}, or choose it with the file dialog.`,
    field,
  );
}
