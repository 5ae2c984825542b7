/** The per-install lock that keeps two deploys (or updates) of one install apart. */
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { FleetError } from '../core/errors.js';
import type { Remote } from './host.js';
import type { Layout } from './layout.js';
import type { Progress } from './progress.js';
import { shq } from './shell.js';

const LOCK_STALE_SECONDS = 600;

export interface HeldLock {
  release(): Promise<void>;
}

/** Take the install's deploy lock (one deploy at a time per install; a stale one is taken over). */
export async function takeLock(remote: Remote, l: Layout, progress: Progress): Promise<HeldLock> {
  const token = randomBytes(8).toString('hex');
  const who = `${safeUser()}@${hostname()} pid ${process.pid}`.replace(/[\n\r]/g, ' ');
  const d = shq(l.lockDir);
  // mkdir is atomic: exactly one of several racing deploys creates the dir. The owner file says when
  // and who; a lock older than LOCK_STALE_SECONDS is left over from a crashed deploy and taken over.
  const script = `
now=$(date +%s)
mkdir -p ${shq(l.installDir)} || exit 2
take() { mkdir ${d} 2>/dev/null && printf '%s\\n%s\\n%s\\n' "$now" ${shq(who)} ${shq(token)} > ${d}/owner && echo ACQUIRED; }
take && exit 0
t=; by=
if [ -r ${d}/owner ]; then { read -r t; read -r by; } < ${d}/owner; fi
case "$t" in ''|*[!0-9]*) t=$(date -r ${d} +%s 2>/dev/null || echo "$now");; esac
if [ $((now - t)) -gt ${LOCK_STALE_SECONDS} ]; then rm -rf ${d}; take && { echo "STALE $t $by"; exit 0; }; fi
printf 'HELD %s %s\\n' "$t" "$by"
`;
  return progress.step('lock', 'Taking the deploy lock', async () => {
    const r = await remote.privOk(script, `take the deploy lock in ${l.installDir}`);
    const out = r.stdout.trim();
    if (!out.includes('ACQUIRED')) {
      const m = /HELD (\d+) ?(.*)$/m.exec(out);
      const since = m ? new Date(Number(m[1]) * 1000).toISOString() : 'an unknown time';
      throw new FleetError(
        'conflict',
        `another deploy is running since ${since}${m?.[2] ? ` (${m[2]})` : ''} on this host. Wait for it to finish; a lock older than ${LOCK_STALE_SECONDS / 60} min is taken over.`,
      );
    }
    const stale = /STALE (\d+)/.exec(out);
    const release = async () => {
      // Only our own lock: after a takeover the dir may belong to someone else.
      await remote
        .priv(`tok=; if [ -r ${d}/owner ]; then { read -r _; read -r _; read -r tok; } < ${d}/owner; fi; [ "$tok" = ${shq(token)} ] && rm -rf ${d}; exit 0`)
        .catch(() => undefined);
    };
    return {
      value: { release },
      message: stale ? `Took over a stale lock from ${new Date(Number(stale[1]) * 1000).toISOString()}` : `Locked ${l.lockDir}`,
    };
  });
}

function safeUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
