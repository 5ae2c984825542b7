/**
 * Minute points on disk: one JSON line per minute in a file per UTC day. Append-only, so a kill can
 * at worst tear the last line, which loading drops (and cuts off, so the next append starts clean).
 */
import * as fs from 'node:fs';
import path from 'node:path';
import type { HistoryPoint } from '../protocol.js';
import { writeFileAtomic } from '../atomic-file.js';
import { isHistoryPoint } from './point.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const FILE_RE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function segmentName(t: number): string {
  return `${new Date(t).toISOString().slice(0, 10)}.jsonl`;
}

function dayStart(file: string): number {
  const m = FILE_RE.exec(file);
  return m ? Date.parse(`${m[1]}T00:00:00Z`) : Number.NaN;
}

export class SegmentFiles {
  /** The last write or prune failure (disk full, permissions); history goes on in memory. */
  lastError: string | null = null;

  constructor(
    readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Day files, oldest first. */
  files(): string[] {
    try {
      return fs.readdirSync(this.dir).filter((f) => FILE_RE.test(f) && Number.isFinite(dayStart(f))).sort();
    } catch {
      return [];
    }
  }

  append(point: HistoryPoint): void {
    try {
      fs.mkdirSync(this.dir, { recursive: true });
      fs.appendFileSync(path.join(this.dir, segmentName(point.t)), `${JSON.stringify(point)}\n`);
    } catch (err) {
      this.lastError = `history write failed: ${(err as Error).message}`;
    }
  }

  /** Every valid point at or after `since`, sorted, one per timestamp (the later line wins). */
  load(since: number): HistoryPoint[] {
    const byT = new Map<number, HistoryPoint>();
    for (const f of this.files()) {
      if (dayStart(f) + DAY_MS <= since) continue;
      for (const p of this.readFile(path.join(this.dir, f))) if (p.t >= since) byT.set(p.t, p);
    }
    return [...byT.values()].sort((a, b) => a.t - b.t);
  }

  private readFile(file: string): HistoryPoint[] {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return [];
    }
    const end = text.lastIndexOf('\n') + 1;
    if (end < text.length) this.cutTornTail(file, Buffer.byteLength(text.slice(0, end)));
    const out: HistoryPoint[] = [];
    for (const line of text.slice(0, end).split('\n')) {
      if (line === '') continue;
      try {
        const p: unknown = JSON.parse(line);
        if (isHistoryPoint(p)) out.push(p);
      } catch {
        // A damaged line costs one minute of history, not the file.
      }
    }
    return out;
  }

  private cutTornTail(file: string, keepBytes: number): void {
    try {
      fs.truncateSync(file, keepBytes);
    } catch (err) {
      this.lastError = `history repair failed: ${(err as Error).message}`;
    }
  }

  /** Drops days wholly older than `keepSince`, then the oldest data until the folder fits `maxBytes`. */
  prune(keepSince: number): void {
    try {
      for (const f of this.files()) if (dayStart(f) + DAY_MS <= keepSince) fs.rmSync(path.join(this.dir, f), { force: true });
      let files = this.files();
      const size = (f: string) => fs.statSync(path.join(this.dir, f)).size;
      let total = files.reduce((a, f) => a + size(f), 0);
      while (total > this.maxBytes && files.length > 1) {
        total -= size(files[0]!);
        fs.rmSync(path.join(this.dir, files[0]!), { force: true });
        files = files.slice(1);
      }
      if (total > this.maxBytes && files.length === 1) this.compact(files[0]!);
    } catch (err) {
      this.lastError = `history prune failed: ${(err as Error).message}`;
    }
  }

  /** One day alone is over the cap: keep its newest lines that fit half the cap (room to grow). */
  private compact(file: string): void {
    const full = path.join(this.dir, file);
    const lines = fs.readFileSync(full, 'utf8').split('\n').filter((l) => l !== '');
    const kept: string[] = [];
    let bytes = 0;
    for (let i = lines.length - 1; i >= 0; i--) {
      const b = Buffer.byteLength(lines[i]!) + 1;
      if (bytes + b > this.maxBytes / 2) break;
      kept.unshift(lines[i]!);
      bytes += b;
    }
    // A kill mid-compaction leaves either version, never half of one.
    writeFileAtomic(full, kept.map((l) => `${l}\n`).join(''));
  }
}
