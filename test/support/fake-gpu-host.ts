/**
 * A test host's GPU: the fake nvidia-smi answering from a real capture, installed in a folder that the
 * sshd puts first on the PATH of every session (sshd_config SetEnv).
 */
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CAPTURES_DIR, FAKE_NVIDIA_SMI } from './fake-nvidia-smi/capture.js';

export interface FakeGpu {
  /** The folder holding the `nvidia-smi` executable. */
  bin: string;
  /** The copy of the capture the fake answers from. */
  capture: string;
  /** The sshd_config line that puts `bin` first on PATH and points the fake at `capture`. */
  sshdSetEnv: string;
}

/** Installs the fake nvidia-smi into `<dir>/bin`, answering from `captureName` in test/fixtures/nvidia-smi. */
export function installFakeNvidiaSmi(dir: string, captureName: string): FakeGpu {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  copyFileSync(FAKE_NVIDIA_SMI, join(bin, 'nvidia-smi'));
  chmodSync(join(bin, 'nvidia-smi'), 0o755);
  const capture = join(dir, 'capture.txt');
  copyFileSync(join(CAPTURES_DIR, captureName), capture);
  chmodSync(capture, 0o644);
  return { bin, capture, sshdSetEnv: `SetEnv PATH=${bin}:/usr/local/bin:/usr/bin:/bin FAKE_NVIDIA_SMI_CAPTURE=${capture}` };
}
