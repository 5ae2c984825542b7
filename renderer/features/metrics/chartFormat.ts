/** Axis and tooltip formats of the history charts: short on the axis, with units in the tooltip. */
import { gib } from '../../ui/format.js';

export const pctFmt = (v: number) => `${Math.round(v)}%`;
export const gibFmt = (v: number) => (v === 0 ? '0' : `${+(v / 1024 ** 3).toFixed(v >= 10 * 1024 ** 3 ? 0 : 1)}G`);
export const gibTip = (v: number) => `${gib(v)} GiB`;
export const wattFmt = (v: number) => (v === 0 ? '0' : `${Math.round(v)}W`);
export const wattTip = (v: number) => `${Math.round(v)} W`;
export const tempFmt = (v: number) => `${Math.round(v)}°`;
export const tempTip = (v: number) => `${Math.round(v)}°C`;
export const rateFmt = (v: number) =>
  v === 0 ? '0' : v >= 1e9 ? `${+(v / 1e9).toFixed(1)}G` : v >= 1e6 ? `${Math.round(v / 1e6)}M` : v >= 1e3 ? `${Math.round(v / 1e3)}k` : `${Math.round(v)}`;

export function fmtResolution(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}
