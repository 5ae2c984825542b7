/** Which charts the history section draws: the system's four, then four per GPU. */
import type { GpuSample, HistoryPoint } from '../../../preload/api.js';
import { fmtPercent, fmtPower, fmtRate, fmtTemp, fmtUsedTotal, fmtWatts } from '../../ui/format.js';
import { gibFmt, gibTip, pctFmt, rateFmt, tempFmt, tempTip, wattFmt, wattTip } from './chartFormat.js';
import { COLORS, type MetricChartProps } from './Charts.js';

/** A chart without the rows and time axis every chart of the section shares. */
export type ChartSpec = Omit<MetricChartProps, 'rows' | 'range' | 'start' | 'end' | 'ticks'>;

type Point = HistoryPoint | undefined;
type GpuPoint = HistoryPoint['gpus'][number] | undefined;

export const systemCharts = (last: Point, memTotal: number | null): ChartSpec[] => [
  { testId: 'chart-cpu', title: 'CPU', value: fmtPercent(last?.cpuPercent), series: [{ key: 'cpu', name: 'CPU', color: COLORS.cpu }], yDomain: [0, 100], yFormat: pctFmt },
  { testId: 'chart-mem', title: 'Memory', value: fmtUsedTotal(last?.memUsedBytes, memTotal), series: [{ key: 'mem', name: 'Used', color: COLORS.mem }], yDomain: [0, memTotal ?? 'auto'], yFormat: gibFmt, format: gibTip },
  {
    testId: 'chart-net',
    title: 'Network',
    series: [
      { key: 'rx', name: '↓ rx', color: COLORS.rx, value: fmtRate(last?.netRxBytesPerSec) },
      { key: 'tx', name: '↑ tx', color: COLORS.tx, value: fmtRate(last?.netTxBytesPerSec) },
    ],
    yDomain: [0, 'auto'],
    yFormat: rateFmt,
    format: fmtRate,
  },
  { testId: 'chart-cpu-power', title: 'CPU power', value: fmtWatts(last?.cpuPowerW), series: [{ key: 'cpuW', name: 'Package', color: COLORS.cpuW }], yDomain: [0, 'auto'], yFormat: wattFmt, format: wattTip, emptyText: 'CPU power is not readable on this server (no RAPL access)' },
];

/** `g` is the GPU as the latest sample describes it (name, limits); `lg` its latest history point. */
export const gpuCharts = (i: number, g: GpuSample | undefined, lg: GpuPoint): ChartSpec[] => [
  { testId: `chart-gpu-util-${i}`, title: 'Utilisation', value: fmtPercent(lg?.utilPercent), series: [{ key: `g${i}u`, name: 'Util', color: COLORS.util }], yDomain: [0, 100], yFormat: pctFmt, emptyText: g && g.utilPercent === null ? 'Not reported by this GPU (MIG mode reports no utilisation)' : undefined },
  { testId: `chart-gpu-mem-${i}`, title: 'VRAM', value: fmtUsedTotal(lg?.memUsedBytes, g?.memTotalBytes), series: [{ key: `g${i}m`, name: 'Used', color: COLORS.vram }], yDomain: [0, g?.memTotalBytes ?? 'auto'], yFormat: gibFmt, format: gibTip },
  { testId: `chart-gpu-temp-${i}`, title: 'Temperature', value: fmtTemp(lg?.tempC), series: [{ key: `g${i}t`, name: 'Temp', color: COLORS.temp }], yDomain: [20, (max: number) => Math.max(90, Math.ceil(max / 10) * 10)], yFormat: tempFmt, format: tempTip },
  { testId: `chart-gpu-power-${i}`, title: 'Power', value: fmtPower(lg?.powerW, g?.powerLimitW), series: [{ key: `g${i}p`, name: 'Draw', color: COLORS.power }], yDomain: [0, g?.powerLimitW ?? 'auto'], yFormat: wattFmt, format: wattTip },
];
