export const USAGE = `fleetwake: manage your GPU fleet from the terminal (same hosts and trusted keys as the app)

Usage:
  fleetwake hosts add NAME --host H [--port P] [--user U] [--identity FILE]
                          [--password-env VAR] [--jump NAME] [--mac MAC]
                          [--wol-address ADDR] [--wol-port PORT]
                          [--known-hosts FILE]... [--json]
  fleetwake hosts ls [--json]
  fleetwake hosts rm NAME
  fleetwake hosts import-ssh-config [--file F] [--yes] [--dry-run] [--json]
  fleetwake trust NAME [--fingerprint SHA256:... | --yes]
  fleetwake status [NAME...] [--json]
  fleetwake agent deploy NAME [--mode auto|system|user] [--json]
  fleetwake agent status|upgrade NAME [--json]
  fleetwake agent uninstall NAME [--purge] [--json]
  fleetwake metrics NAME [--json]
  fleetwake wake NAME [--wait] [--timeout S] [--via NAME|auto] [--json]
  fleetwake suspend NAME status|now|enable|disable [--json]

Options:
  --home DIR   data folder (default: $FLEETWAKE_HOME, else the desktop app's own)
  --json       machine-readable output
  --password-env VAR   the NAME of an environment variable holding the password; the
                       password itself is never stored by the CLI
  --wait       wake: wait until SSH (and the agent, when installed) answers
  --timeout S  wake: give up waiting after S seconds (default 180)
  --via NAME   wake: have NAME's agent send the magic packet from its LAN ("auto" picks an
               awake host on the sleeping host's subnet when this computer is not on it)

Exit status: 0 success (status: every host online), 1 the operation failed
(status: some host is not online; agent: the agent is not running afterwards), 2 bad usage
or invalid input. Deploy and wake progress is printed on stderr.
Wake-on-LAN sends to the host's --wol-address/--wol-port when set, else to its subnet's
broadcast (learned from the agent) and 255.255.255.255, ports 9 and 7.
`;
