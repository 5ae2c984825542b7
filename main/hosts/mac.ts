import { invalidInput } from '../core/errors.js';

const SEPARATED = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i;
const CISCO = /^([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})$/i;
const BARE = /^[0-9a-f]{12}$/i;
const CANONICAL = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

const BROADCAST = 'ff:ff:ff:ff:ff:ff';
const ALL_ZERO = '00:00:00:00:00:00';

const FORMATS_HINT = 'aa:bb:cc:dd:ee:ff, AA-BB-CC-DD-EE-FF, aabb.ccdd.eeff or aabbccddeeff';

/** Keeps error messages readable when someone pastes a whole paragraph into the field. */
function quoteForMessage(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}

function hexDigitsOf(trimmed: string): string | null {
  const separated = SEPARATED.exec(trimmed);
  if (separated) return [1, 3, 4, 5, 6, 7].map((i) => separated[i]).join('');
  const cisco = CISCO.exec(trimmed);
  if (cisco) return `${cisco[1]}${cisco[2]}${cisco[3]}`;
  if (BARE.test(trimmed)) return trimmed;
  return null;
}

/** Returns the MAC in lower-case colon form, or throws an invalid-input FleetError on field `mac`. */
export function normalizeMac(raw: string): string {
  const trimmed = typeof raw === 'string' ? raw.trim() : '';
  const hex = hexDigitsOf(trimmed);
  if (hex === null) {
    throw invalidInput('mac', `MAC address must be 6 bytes of hex such as ${FORMATS_HINT} (got ${quoteForMessage(String(raw))}).`);
  }
  const mac = hex.toLowerCase().match(/../g)!.join(':');
  if (mac === BROADCAST) {
    throw invalidInput('mac', `ff:ff:ff:ff:ff:ff is the broadcast address, not a network card. Enter the MAC of the server's wired network card (ip link on the server shows it).`);
  }
  if (mac === ALL_ZERO) {
    throw invalidInput('mac', `00:00:00:00:00:00 is not a real network card's address. Enter the MAC of the server's wired network card (ip link on the server shows it).`);
  }
  return mac;
}

/** True when normalizeMac would accept the text. */
export function isValidMac(raw: unknown): boolean {
  if (typeof raw !== 'string') return false;
  try {
    normalizeMac(raw);
    return true;
  } catch {
    return false;
  }
}

/** True only for the stored form: lower-case, colon separated, neither broadcast nor all-zero. */
export function isCanonicalMac(value: unknown): value is string {
  return typeof value === 'string' && CANONICAL.test(value) && value !== BROADCAST && value !== ALL_ZERO;
}
