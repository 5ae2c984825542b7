/**
 * A stand-in for the bits of /sys the agent's GPU reader looks at: NVIDIA PCI display devices bound to
 * the `nvidia` driver, with their runtime power state. Point the agent at it with FLEETWAKE_AGENT_SYSFS
 * (or GpuReader's sysRoot), and the fake nvidia-smi at the device folders with
 * FAKE_NVIDIA_SMI_SYSFS_DEVICES so a start while one is 'suspended' counts as a wake-up.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface FakePciGpu {
  address: string;
  runtimeStatus: 'active' | 'suspended';
  /** 'auto': runtime power management on; 'on': always on (servers). */
  control: 'auto' | 'on';
}

export interface FakeSysfs {
  root: string;
  /** The device folders, in the order given. */
  devices: string[];
  setRuntimeStatus(address: string, status: string): void;
}

export function makeFakeSysfs(root: string, gpus: FakePciGpu[], others: { address: string; vendor: string; cls: string }[] = []): FakeSysfs {
  const devicesDir = path.join(root, 'bus', 'pci', 'devices');
  const driverDir = path.join(root, 'bus', 'pci', 'drivers', 'nvidia');
  mkdirSync(devicesDir, { recursive: true });
  mkdirSync(driverDir, { recursive: true });
  const dev = (address: string) => path.join(devicesDir, address);
  for (const g of gpus) {
    mkdirSync(path.join(dev(g.address), 'power'), { recursive: true });
    writeFileSync(path.join(dev(g.address), 'vendor'), '0x10de\n');
    writeFileSync(path.join(dev(g.address), 'class'), '0x030200\n');
    symlinkSync(path.relative(dev(g.address), driverDir), path.join(dev(g.address), 'driver'));
    writeFileSync(path.join(dev(g.address), 'power', 'runtime_status'), `${g.runtimeStatus}\n`);
    writeFileSync(path.join(dev(g.address), 'power', 'control'), `${g.control}\n`);
  }
  for (const o of others) {
    mkdirSync(path.join(dev(o.address), 'power'), { recursive: true });
    writeFileSync(path.join(dev(o.address), 'vendor'), `${o.vendor}\n`);
    writeFileSync(path.join(dev(o.address), 'class'), `${o.cls}\n`);
    writeFileSync(path.join(dev(o.address), 'power', 'runtime_status'), 'suspended\n');
  }
  return {
    root,
    devices: gpus.map((g) => dev(g.address)),
    setRuntimeStatus: (address, status) => writeFileSync(path.join(dev(address), 'power', 'runtime_status'), `${status}\n`),
  };
}
