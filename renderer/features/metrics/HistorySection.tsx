import { useMemo, useState } from 'react';
import { HISTORY_RANGES, type AgentState, type HistoryRange, type MetricsSample } from '../../../preload/api.js';
import { RANGE_LABEL, RANGE_MS, rangeTicks, shortGpuName } from '../../ui/format.js';
import { fmtResolution } from './chartFormat.js';
import { toChartRows } from './chartRows.js';
import { gpuCharts, systemCharts } from './chartSpecs.js';
import { MetricChart } from './Charts.js';
import { useHistory } from './useHistory.js';
import './history.css';

export function HistorySection({ name, sample, agentState }: { name: string; sample: MetricsSample | undefined; agentState: AgentState }) {
  const [range, setRange] = useState<HistoryRange>('1h');
  const { entry, history, error, loading, points, stepMs } = useHistory(name, range, sample, agentState);

  const gpuIndexes = useMemo(() => {
    const set = new Set<number>();
    for (const g of sample?.gpus ?? []) set.add(g.index);
    for (const g of points.at(-1)?.gpus ?? []) set.add(g.index);
    return [...set].sort((a, b) => a - b);
  }, [sample?.gpus, points]);

  const rows = useMemo(() => toChartRows(points, gpuIndexes, stepMs * 3), [points, gpuIndexes, stepMs]);
  const end = Math.max(points.at(-1)?.t ?? 0, entry?.fetchedAt ?? 0) || Date.now();
  const start = end - RANGE_MS[range];
  const ticks = useMemo(() => rangeTicks(start, end, range), [start, end, range]);
  const common = { rows, range, start, end, ticks };

  const last = points.at(-1);
  const memTotal = sample?.memory.totalBytes ?? last?.memTotalBytes ?? null;

  const resolution = history ? fmtResolution(history.resolutionSeconds) : null;
  return (
    <section className="history" data-testid="history">
      <header className="section-head">
        <h3>History</h3>
        <div className="segmented" role="group" aria-label="History range">
          {HISTORY_RANGES.map((r) => (
            <button
              key={r}
              className={`seg${r === range ? ' seg-on' : ''}`}
              aria-pressed={r === range}
              data-testid={`range-${r}`}
              onClick={() => setRange(r)}
            >
              {RANGE_LABEL[r]}
            </button>
          ))}
        </div>
        <span className="muted history-meta">
          {loading && !history ? (
            <>
              <span className="spinner spinner-xs" aria-hidden="true" /> Loading…
            </>
          ) : resolution ? (
            `${resolution} resolution${range === '1h' ? ' · live' : ''}`
          ) : null}
        </span>
      </header>
      {error ? (
        <p className="form-error" role="alert">
          Could not load history: {error}
        </p>
      ) : null}
      {points.length === 0 && !(loading && !history) && !error ? (
        <p className="panel panel-empty" data-testid="history-empty">
          {agentState === 'running' || agentState === 'outdated'
            ? `No history in this range yet: the agent records a point every ${resolution ?? '10 s'}.`
            : 'History is recorded by the agent on the server, for 7 days. Install the agent to start recording.'}
        </p>
      ) : null}
      {points.length ? (
        <>
          <div className="chart-grid">
            {systemCharts(last, memTotal).map((c) => (
              <MetricChart key={c.testId} {...c} {...common} />
            ))}
          </div>
          {gpuIndexes.map((i) => {
            const g = sample?.gpus.find((x) => x.index === i);
            const lg = last?.gpus.find((x) => x.index === i);
            return (
              <div className="gpu-charts" key={i} data-testid={`gpu-charts-${i}`}>
                <h4 className="gpu-charts-head">
                  <span className="gpu-idx">{i}</span>
                  {g ? shortGpuName(g.name) : `GPU ${i}`}
                  {g ? <span className="muted mono gpu-uuid">{g.uuid}</span> : null}
                </h4>
                <div className="chart-grid">
                  {gpuCharts(i, g, lg).map((c) => (
                    <MetricChart key={c.testId} {...c} height={108} {...common} />
                  ))}
                </div>
              </div>
            );
          })}
        </>
      ) : null}
    </section>
  );
}
