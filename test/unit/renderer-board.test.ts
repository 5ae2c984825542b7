/** Issue 12: the board is ordered by what each box needs, not by when it was added. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { IdleStatus } from '../../preload/api.js';
import { boardGroup, selectBoardOrderKey } from '../../renderer/features/fleet/board-order.js';
import { applyHosts, applyStatus } from '../../renderer/features/hosts/store.js';
import { applyIdle } from '../../renderer/features/sleep/store.js';
import { resetFleetStore, useFleet } from '../../renderer/state/store.js';
import { hostStatus, hostView } from '../support/builders.js';

const idle = (state: IdleStatus['state']): IdleStatus => ({
  state,
  gates: [],
  idleSince: state === 'idle' ? 1 : null,
  suspendAt: null,
  settings: { cpuIdleThreshold: 10, gpuIdleThreshold: 5, windowSeconds: 300, idleTimeoutSeconds: 1800, minSamples: 30, enableSuspend: true, networkThresholdBytesPerSec: 50_000 },
  dryRun: false,
  suspendCommand: [],
  samples: 3,
});

beforeEach(() => resetFleetStore());

describe('board order', () => {
  it('needs-you first, then waking, busy, idle, connecting, asleep, offline; by name (numbers in order) within each', () => {
    // Added in this order: the board must not follow it.
    const added = ['off-1', 'gpu-10', 'sleepy', 'gpu-2', 'keybox', 'idle-b', 'idle-a', 'rising', 'authbox', 'dialing'];
    applyHosts(added.map((n) => hostView(n)));
    applyStatus(hostStatus('off-1', 'offline'));
    applyStatus(hostStatus('gpu-10', 'online'));
    applyStatus(hostStatus('gpu-2', 'online'));
    applyStatus(hostStatus('sleepy', 'asleep'));
    applyStatus(hostStatus('keybox', 'host-key-changed'));
    applyStatus(hostStatus('authbox', 'auth-failed'));
    applyStatus(hostStatus('idle-a', 'online'));
    applyStatus(hostStatus('idle-b', 'online'));
    applyStatus(hostStatus('rising', 'waking'));
    applyStatus(hostStatus('dialing', 'connecting'));
    applyIdle({ name: 'idle-a', status: idle('idle') });
    applyIdle({ name: 'idle-b', status: idle('idle') });
    applyIdle({ name: 'gpu-2', status: idle('active') });
    expect(selectBoardOrderKey(useFleet.getState()).split('\n')).toEqual([
      'authbox',
      'keybox',
      'rising',
      'gpu-2',
      'gpu-10',
      'idle-a',
      'idle-b',
      'dialing',
      'sleepy',
      'off-1',
    ]);
    // A box that goes idle moves down among the idle ones; one with no idle status yet counts as busy.
    expect(boardGroup(useFleet.getState(), 'gpu-10')).toBe('busy');
    applyIdle({ name: 'gpu-2', status: idle('idle') });
    expect(boardGroup(useFleet.getState(), 'gpu-2')).toBe('idle');
  });
});
