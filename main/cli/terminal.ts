import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

/** A real terminal to ask on; the CLI never reads questions from a pipe. */
export interface Terminal {
  input: Readable & { isTTY?: boolean; setRawMode?: (on: boolean) => unknown };
  output: Writable;
}

export function askLine(t: Terminal, question: string): Promise<string> {
  const rl = createInterface({ input: t.input, output: t.output, terminal: true });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}

/** Reads a secret without echoing it. */
export function askHidden(t: Terminal, question: string): Promise<string> {
  const rl = createInterface({ input: t.input, output: t.output, terminal: true });
  const out = rl as unknown as { _writeToOutput: (s: string) => void };
  let asked = false;
  out._writeToOutput = (s: string) => {
    // Print the question itself once, then nothing of what is typed but the final newline.
    if (!asked) {
      t.output.write(s);
      asked = true;
    } else if (s.includes('\n')) {
      t.output.write('\n');
    }
  };
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(answer);
    });
  });
}
