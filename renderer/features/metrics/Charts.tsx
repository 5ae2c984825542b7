/**
 * History charts. Recharts draws SVG with presentation attributes and React style props only, which
 * the strict CSP allows (no <style> element is injected). Colours come from the palette below.
 */
import { memo, useId, type ReactNode } from 'react';
import {
  Area,
  AreaChart,
  CartesianGrid,
  ReferenceLine,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
  type TooltipContentProps,
} from 'recharts';
import type { NameType, ValueType } from 'recharts/types/component/DefaultTooltipContent';
import type { HistoryRange } from '../../../preload/api.js';
import { DASH, fmtTick, fmtTime } from '../../ui/format.js';
import type { ChartRow } from './chartRows.js';

export const COLORS = {
  cpu: '#6ea8ff',
  mem: '#a78bfa',
  rx: '#3ecf8e',
  tx: '#f0b429',
  cpuW: '#fb923c',
  util: '#3ecf8e',
  vram: '#a78bfa',
  temp: '#ff7a7a',
  power: '#f0b429',
} as const;

export interface SeriesDef {
  key: string;
  name: string;
  color: string;
  /** Latest value, shown in the legend (charts with several series). */
  value?: string;
}

type Domain = [number | 'auto' | 'dataMin' | 'dataMax' | ((v: number) => number), number | 'auto' | 'dataMin' | 'dataMax' | ((v: number) => number)];

export interface MetricChartProps {
  testId: string;
  title: string;
  /** Latest value, shown large in the header. */
  value?: ReactNode;
  /** Small text next to the value (e.g. "of 700 W"). */
  sub?: ReactNode;
  rows: ChartRow[];
  series: SeriesDef[];
  range: HistoryRange;
  start: number;
  end: number;
  ticks: number[];
  yDomain: Domain;
  yFormat: (v: number) => string;
  /** Tooltip value format; defaults to yFormat. */
  format?: (v: number) => string;
  /** A dashed line at a limit (total memory, power limit). */
  refY?: number | null;
  refLabel?: string;
  /** Shown over the chart when no series has a value (e.g. utilisation under MIG). */
  emptyText?: string;
  height?: number;
}

const AXIS_TICK = { fill: '#7c8596', fontSize: 11 };

function ChartTip({
  active,
  payload,
  label,
  range,
  format,
}: TooltipContentProps<ValueType, NameType> & { range: HistoryRange; format: (v: number) => string }) {
  if (!active || !payload || payload.length === 0 || typeof label !== 'number') return null;
  return (
    <div className="chart-tip">
      <div className="chart-tip-time">{fmtTime(label, range)}</div>
      {payload.map((p) => (
        <div className="chart-tip-row" key={String(p.dataKey)}>
          <span className="chart-tip-dot" style={{ background: p.color }} />
          <span className="chart-tip-name">{p.name}</span>
          <span className="num">{typeof p.value === 'number' ? format(p.value) : DASH}</span>
        </div>
      ))}
    </div>
  );
}

export const MetricChart = memo(function MetricChart(props: MetricChartProps) {
  const { testId, title, value, sub, rows, series, range, start, end, ticks, yDomain, yFormat, refY, refLabel, emptyText } = props;
  const format = props.format ?? yFormat;
  const gid = useId().replace(/:/g, '');
  const hasData = rows.some((r) => series.some((s) => typeof r[s.key] === 'number'));
  return (
    <figure className="chart" data-testid={testId}>
      <figcaption className="chart-head">
        <span className="chart-title">{title}</span>
        {series.length > 1 ? (
          <span className="chart-legend">
            {series.map((s) => (
              <span key={s.key} className="chart-legend-item">
                <span className="chart-tip-dot" style={{ background: s.color }} />
                {s.name}
                {s.value !== undefined ? <span className="chart-legend-value num">{s.value}</span> : null}
              </span>
            ))}
          </span>
        ) : null}
        <span className="spacer" />
        {value !== undefined ? <span className="chart-value num">{value}</span> : null}
        {sub ? <span className="chart-sub">{sub}</span> : null}
      </figcaption>
      <div className="chart-body" style={{ height: props.height ?? 132 }}>
        <ResponsiveContainer width="100%" height="100%" minWidth={0}>
          <AreaChart data={rows} margin={{ top: 6, right: 8, bottom: 0, left: 0 }}>
            <defs>
              {series.map((s) => (
                <linearGradient key={s.key} id={`${gid}-${s.key}`} x1="0" y1="0" x2="0" y2="1">
                  <stop offset="0%" stopColor={s.color} stopOpacity={0.32} />
                  <stop offset="100%" stopColor={s.color} stopOpacity={0.02} />
                </linearGradient>
              ))}
            </defs>
            <CartesianGrid stroke="#262d3b" strokeDasharray="2 4" vertical={false} />
            <XAxis
              dataKey="t"
              type="number"
              scale="time"
              domain={[start, end]}
              ticks={ticks}
              tickFormatter={(t: number) => fmtTick(t, range)}
              tick={AXIS_TICK}
              tickLine={false}
              axisLine={{ stroke: '#343d4f' }}
              minTickGap={18}
              allowDataOverflow
            />
            <YAxis
              domain={yDomain}
              tickFormatter={yFormat}
              tick={AXIS_TICK}
              tickLine={false}
              axisLine={false}
              width={44}
              tickCount={3}
              ticks={typeof yDomain[0] === 'number' && typeof yDomain[1] === 'number' ? [yDomain[0], (yDomain[0] + yDomain[1]) / 2, yDomain[1]] : undefined}
              allowDataOverflow
            />
            {typeof refY === 'number' ? (
              <ReferenceLine
                y={refY}
                stroke="#7c8596"
                strokeDasharray="4 4"
                strokeOpacity={0.7}
                ifOverflow="extendDomain"
                label={refLabel ? { value: refLabel, position: 'insideTopRight', fill: '#7c8596', fontSize: 10.5 } : undefined}
              />
            ) : null}
            <Tooltip
              content={(p: TooltipContentProps<ValueType, NameType>) => <ChartTip {...p} range={range} format={format} />}
              cursor={{ stroke: '#4f5a70', strokeWidth: 1 }}
              isAnimationActive={false}
            />
            {series.map((s) => (
              <Area
                key={s.key}
                dataKey={s.key}
                name={s.name}
                type="monotone"
                stroke={s.color}
                strokeWidth={1.6}
                fill={`url(#${gid}-${s.key})`}
                isAnimationActive={false}
                dot={false}
                activeDot={{ r: 3, strokeWidth: 0 }}
                connectNulls={false}
              />
            ))}
          </AreaChart>
        </ResponsiveContainer>
        {!hasData ? <div className="chart-empty">{emptyText ?? 'No data in this range'}</div> : null}
      </div>
    </figure>
  );
});
