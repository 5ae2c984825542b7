import os from 'node:os';
import path from 'node:path';

export const APP_NAME = 'Fleetwake';

/**
 * Electron's userData folder for app name "Fleetwake", computed without Electron so the CLI and the
 * harness find the same store as the desktop app.
 */
export function defaultDataDir(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
  homeDir: string = os.homedir(),
): string {
  if (platform === 'win32') {
    const appData = env.APPDATA || path.win32.join(homeDir, 'AppData', 'Roaming');
    return path.win32.join(appData, APP_NAME);
  }
  if (platform === 'darwin') return path.posix.join(homeDir, 'Library', 'Application Support', APP_NAME);
  // Chromium takes any non-empty XDG_CONFIG_HOME as is; matching it keeps both on the same file.
  const configHome = env.XDG_CONFIG_HOME || path.posix.join(homeDir, '.config');
  return path.posix.join(configHome, APP_NAME);
}

/** The --data-dir flag, else FLEETWAKE_HOME, else the desktop app's folder. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = flag?.trim() || env.FLEETWAKE_HOME?.trim();
  return chosen ? path.resolve(chosen) : defaultDataDir(process.platform, env);
}
