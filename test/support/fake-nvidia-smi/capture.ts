/**
 * Reads a real nvidia-smi capture (test/fixtures/nvidia-smi/, a copy of shared/fixtures/nvidia-smi with
 * its MIT licence, so a clone tests on its own) for tests. Deliberately a
 * different method from the fake executable (columns picked by HEADER name here, by the recorded query
 * field list there) so the two check each other.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const FAKE_NVIDIA_SMI = path.join(here, 'nvidia-smi');
export const SYNTHETIC_CAPTURE = path.join(here, 'captures', 'synthetic-2gpu-placeholders.txt');
export const CAPTURES_DIR = path.resolve(here, '../../fixtures/nvidia-smi');

export function realCaptures(): string[] {
  return readdirSync(CAPTURES_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => path.join(CAPTURES_DIR, f));
}

export type Round = 'idle' | 'load';
export type QueryKind = 'query-gpu' | 'query-compute-apps';

/** Header cell name without its ` [unit]`, and the unit. */
function splitHeader(cell: string): { name: string; unit: string | null } {
  const m = /^(.*?)\s*\[([^\]]+)\]$/.exec(cell.trim());
  return m ? { name: m[1]!, unit: m[2]! } : { name: cell.trim(), unit: null };
}

// nvidia-smi heads a column with the canonical name even when queried by its alias.
const HEADER_NAME: Record<string, string> = { used_memory: 'used_gpu_memory', name: 'process_name' };

/** The body lines (header first) of `<round> :: <kind>`. */
export function captureTable(text: string, round: Round, kind: QueryKind): { header: string[]; rows: string[] } {
  const lines = text.split(/\r?\n/);
  const start = lines.findIndex((l) => l.startsWith(`# ${round} :: ${kind}`));
  if (start < 0) throw new Error(`no ${round} :: ${kind} section`);
  let i = start + 1;
  while (i < lines.length && lines[i]!.startsWith('#')) i++;
  const body: string[] = [];
  for (; i < lines.length && !lines[i]!.startsWith('####'); i++) if (lines[i]!.trim() !== '') body.push(lines[i]!);
  const [header, ...rows] = body;
  return { header: (header ?? '').split(', '), rows };
}

/** What nvidia-smi would print for `--<kind>=<fields> --format=csv,noheader,nounits` at that round. */
export function narrowQuery(capturePath: string, round: Round, kind: QueryKind, fields: readonly string[]): string {
  const { header, rows } = captureTable(readFileSync(capturePath, 'utf8'), round, kind);
  const cols = header.map(splitHeader);
  const freeText = cols.findIndex((c) => c.name === 'process_name' || c.name === 'name');
  const picks = fields.map((f) => {
    const wanted = kind === 'query-compute-apps' ? (HEADER_NAME[f] ?? f) : f;
    const i = cols.findIndex((c) => c.name === wanted);
    if (i < 0) throw new Error(`capture ${path.basename(capturePath)} has no column ${f}`);
    return i;
  });
  return rows
    .map((row) => {
      let cells = row.split(', ').map((c) => c.trim());
      const surplus = cells.length - cols.length;
      if (surplus > 0) cells = [...cells.slice(0, freeText), cells.slice(freeText, freeText + surplus + 1).join(', '), ...cells.slice(freeText + surplus + 1)];
      return picks
        .map((i) => {
          const unit = cols[i]!.unit;
          const v = cells[i] ?? '';
          return unit && v.endsWith(` ${unit}`) ? v.slice(0, -unit.length - 1) : v;
        })
        .join(', ');
    })
    .map((l) => `${l}\n`)
    .join('');
}
