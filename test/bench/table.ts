/** The one table `npm run bench` prints, plus numbered footnotes under it. */
import type { Measure, Row } from './types.js';

export interface TableRow extends Row {
  section: string;
}

export function fmtNumber(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtMeasure(m: Measure | null | undefined): string {
  if (!m) return '-';
  return `${fmtNumber(m.p50)} / ${fmtNumber(m.p90)} ${m.unit} (n=${m.n})`;
}

function fmtRatio(r: number | null | undefined): string {
  if (r === null || r === undefined) return '-';
  return Number.isFinite(r) ? `${r.toFixed(2)}x` : 'n/a';
}

export function renderTable(rows: TableRow[], header: string[] = []): string {
  const cols = ['#', 'section', 'benchmark', 'fleetwake p50 / p90', 'peer', 'peer p50 / p90', 'ratio', 'target', 'result'];
  const cells = rows.map((r, i) => [
    String(i + 1),
    r.section,
    r.name,
    fmtMeasure(r.value),
    r.peerName ?? '-',
    r.peer === undefined ? '-' : fmtMeasure(r.peer),
    fmtRatio(r.ratio),
    r.target,
    r.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => `| ${vals.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const out = [...header, line(cols), rule, ...cells.map(line)];
  const notes = rows.flatMap((r, i) => r.notes.map((n) => `  [${i + 1}] ${n}`));
  if (notes.length) out.push('', 'Notes:', ...notes);
  return out.join('\n');
}
