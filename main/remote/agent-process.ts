/** Running the agent of one install: stop, start, status and a bounded wait for a good agent.info. */
import { posix } from 'node:path';
import { PROTOCOL_VERSION, type AgentInfo } from '../../remote-agent/protocol.js';
import { outputTail, type Remote } from './host.js';
import { agentCommand, agentEnv, SYSTEM_GROUP, UNIT_NAME, type Layout, type Supervisor } from './layout.js';
import { fail } from './progress.js';
import { shq } from './shell.js';

const NL_SETUP = `NL=$(printf '\\n_'); NL=\${NL%_}`;

/**
 * Stop every daemon running this install's agent file: processes whose argv has exactly the agent path
 * and `run` (the daemon is `node <agent> run --foreground ...`). Found through /proc, so a stale pid
 * file or a hung daemon that no longer answers RPC is handled too; nothing is matched by name.
 * It reports `stopped:` only once every one has exited (SIGTERM, 5 s, SIGKILL, up to 10 s more); a
 * survivor makes it fail (exit 3) naming the pid, so nothing is removed from under a running agent.
 */
export function stopScript(agentPath: string): string {
  return `${NL_SETUP}
agent=${shq(agentPath)}
me=$$
pids=
for d in /proc/[0-9]*; do
  p=\${d#/proc/}
  [ "$p" = "$me" ] && continue
  c=$(tr '\\000' '\\n' < "$d/cmdline" 2>/dev/null) || continue
  case "$NL$c$NL" in *"$NL$agent$NL"*) ;; *) continue;; esac
  case "$NL$c$NL" in *"\${NL}run$NL"*) pids="$pids $p";; esac
done
[ -z "$pids" ] && { echo "stopped: none"; exit 0; }
for p in $pids; do kill "$p" 2>/dev/null; done
# Alive: the process exists and is not a zombie (a zombie has exited; only its parent's wait is left).
survivors() {
  alive=
  for p in $pids; do
    if [ -r /proc/$p/stat ]; then read -r l < /proc/$p/stat; r=\${l##*) }; case "$r" in Z*|X*) ;; *) alive="$alive $p";; esac; fi
  done
}
i=0
while [ $i -lt 50 ]; do
  survivors
  [ -z "$alive" ] && break
  sleep 0.1; i=$((i+1))
done
if [ -n "$alive" ]; then
  for p in $alive; do kill -9 "$p" 2>/dev/null; done
  # SIGKILL is not instant (a process in an uninterruptible kernel wait dies when the wait ends): wait.
  i=0
  while [ $i -lt 100 ]; do
    survivors
    [ -z "$alive" ] && break
    sleep 0.1; i=$((i+1))
  done
fi
if [ -n "$alive" ]; then
  echo "The agent is still running (pid$alive) 15 s after SIGTERM and SIGKILL. Check the process (ps -o pid,stat,user,args -p$(echo $alive | tr ' ' ',')): it may belong to another user or be stuck in the kernel. Stop it, then run the command again." >&2
  exit 3
fi
echo "stopped:$pids"
`;
}

/** The agent of install `l` run by `nodePath`, with the install's env (through env(1): it follows `$T`). */
function run(l: Layout, nodePath: string, args: string[]): string {
  return agentCommand({ nodePath, agentPath: l.agentPath }, args, { env: agentEnv(l), viaEnv: true });
}

export function systemctl(l: Layout): string {
  return l.mode === 'system' ? 'systemctl' : 'systemctl --user';
}

/** Stop the install's agent (systemd unit first when supervised); returns the stop script's report. */
export async function stopAgent(remote: Remote, l: Layout, supervisor: Supervisor): Promise<string> {
  if (supervisor !== 'detached') {
    await remote.priv(`${systemctl(l)} stop ${UNIT_NAME} 2>&1`, 60_000);
  }
  const r = await remote.privOk(stopScript(l.agentPath), 'stop the agent', 30_000);
  return r.stdout.trim();
}

/** Start (or restart) the install's agent with its supervisor; returns what happened, in words. */
export async function startAgent(remote: Remote, l: Layout, nodePath: string, supervisor: Supervisor, restart: boolean): Promise<string> {
  const socketDir = posix.dirname(l.socketPath);
  const dirs =
    l.mode === 'system'
      ? `install -d -m 0750 -o root -g ${SYSTEM_GROUP} ${shq(socketDir)} && install -d -m 0750 ${shq(l.stateDir)}`
      : `mkdir -p ${shq(socketDir)} ${shq(l.stateDir)} && chmod 0700 ${shq(socketDir)} ${shq(l.stateDir)}`;
  if (supervisor !== 'detached') {
    const sc = systemctl(l);
    const r = await remote.priv(
      `${dirs} || exit 1\n${sc} daemon-reload && ${sc} enable ${UNIT_NAME} && ${sc} ${restart ? 'restart' : 'start'} ${UNIT_NAME} 2>&1 || { rc=$?; ${sc} status --no-pager -n 20 ${UNIT_NAME} 2>&1; exit $rc; }`,
      90_000,
    );
    if (r.code !== 0) throw fail(`systemd could not start the agent: ${outputTail(r)}`);
    return `Started by ${l.mode === 'system' ? 'systemd' : 'systemd --user'} (${UNIT_NAME})`;
  }
  if (restart) await stopAgent(remote, l, supervisor);
  const r = await remote.priv(
    `${dirs} || exit 1
${run(l, nodePath, ['run', '--mode', l.mode, '--detach'])} > ${shq(l.startLog)} 2>&1 < /dev/null
rc=$?
cat ${shq(l.startLog)}
exit $rc`,
    40_000,
  );
  // 4 = another agent already serves the socket: running is what we want.
  if (r.code !== 0 && r.code !== 4) throw fail(`The agent did not start: ${outputTail(r)}`);
  return r.code === 4 ? 'Agent was already running' : `Started detached: ${r.stdout.trim().split('\n').pop() ?? ''}`;
}

/** Whether the install's agent answers `status`. */
export async function isAgentRunning(remote: Remote, l: Layout, nodePath: string): Promise<boolean> {
  const r = await remote.priv(`${run(l, nodePath, ['status'])} >/dev/null 2>&1`, 20_000);
  return r.code === 0;
}

const INFO_REQUEST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'agent.info', params: {} });

/** One attempt, with the remote's privilege: `status`, then agent.info through the `rpc` stdio bridge. */
export async function queryInfo(remote: Remote, l: Layout, nodePath: string): Promise<{ info: AgentInfo | null; output: string }> {
  const r = await remote.priv(
    `if command -v timeout >/dev/null 2>&1; then T='timeout 10'; else T=; fi
${run(l, nodePath, ['status'])} 2>&1; echo "@@status $?"
printf '%s\\n' ${shq(INFO_REQUEST)} | $T ${run(l, nodePath, ['rpc'])} 2>&1; echo "@@rpc $?"`,
    25_000,
  );
  for (const line of r.stdout.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const msg = JSON.parse(t) as { id?: unknown; result?: AgentInfo };
      if (msg.id === 1 && msg.result && typeof msg.result.version === 'string') return { info: msg.result, output: r.stdout };
    } catch {
      /* not the response line */
    }
  }
  return { info: null, output: `${r.stdout}${r.stderr}`.trim() };
}

async function logTails(remote: Remote, l: Layout): Promise<string> {
  const r = await remote.priv(
    `for f in ${shq(l.startLog)} ${shq(posix.join(l.stateDir, 'agent.log'))}; do if [ -s "$f" ]; then echo "--- $f"; tail -n 15 "$f"; fi; done`,
    20_000,
  );
  return r.stdout.trim();
}

class VerifyError extends Error {}

/** Wait (bounded) until the agent answers agent.info with the expected version and protocol. */
export async function verifyAgent(remote: Remote, l: Layout, nodePath: string, expectedVersion: string, timeoutMs: number): Promise<AgentInfo> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const { info, output } = await queryInfo(remote, l, nodePath);
    if (info) {
      if (info.protocolVersion !== PROTOCOL_VERSION) {
        throw new VerifyError(`the agent speaks protocol ${info.protocolVersion}, this app ${PROTOCOL_VERSION}`);
      }
      if (info.version === expectedVersion) return info;
      last = `the agent answers as version ${info.version}, expected ${expectedVersion}`;
    } else {
      last = output.replace(/@@(status|rpc) /g, '$1 exit ');
    }
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, 400));
  }
  const logs = await logTails(remote, l).catch(() => '');
  throw new VerifyError(`no good answer to agent.info within ${Math.round(timeoutMs / 1000)} s: ${last}${logs ? `\n${logs}` : ''}`);
}
