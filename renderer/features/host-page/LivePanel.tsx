import { memo } from 'react';
import { toHistoryPoint, type MetricsSample } from '../../../preload/api.js';
import { DASH, fmtPercent, fmtRate, fmtUsedTotal, fmtWatts, ratio, timeAgo } from '../../ui/format.js';
import { GpuList, Meter } from '../metrics/Metrics.js';

export const LivePanel = memo(function LivePanel({ name, sample, hostOnline }: { name: string; sample: MetricsSample | undefined; hostOnline: boolean }) {
  if (!sample) {
    return (
      <section className="panel" data-testid="live-panel">
        <header className="panel-head">
          <h3>Now</h3>
        </header>
        <p className="panel-empty">No live metrics yet.</p>
      </section>
    );
  }
  const cpu = sample.cpu.percent === null ? null : sample.cpu.percent / 100;
  // The same totals the history charts show (virtual interfaces left out).
  const point = toHistoryPoint(sample);
  const root = sample.disks.find((d) => d.label === 'root');
  return (
    <section className={`panel live-panel${hostOnline ? '' : ' is-stale'}`} data-testid="live-panel">
      <header className="panel-head">
        <h3>Now</h3>
        <span className="muted">{hostOnline ? <span className="live-dot">live</span> : `as of ${timeAgo(sample.sampledAt)}`}</span>
      </header>
      <div className="live-grid">
        <div className="live-item" data-testid={`metric-cpu-${name}`}>
          <span className="live-label">CPU</span>
          <span className="live-value num">{fmtPercent(sample.cpu.percent)}</span>
          <Meter value={cpu} />
          <span className="live-sub">
            {sample.cpu.perCore.length} cores · load {sample.cpu.load.map((l) => l.toFixed(2)).join(' ')}
          </span>
        </div>
        <div className="live-item" data-testid={`metric-mem-${name}`}>
          <span className="live-label">Memory</span>
          <span className="live-value num">{fmtUsedTotal(sample.memory.usedBytes, sample.memory.totalBytes)}</span>
          <Meter value={ratio(sample.memory.usedBytes, sample.memory.totalBytes)} tone="mem" />
          <span className="live-sub">
            swap {sample.memory.swapTotalBytes > 0 ? fmtUsedTotal(sample.memory.swapUsedBytes, sample.memory.swapTotalBytes) : 'none'}
          </span>
        </div>
        <div className="live-item">
          <span className="live-label">Network</span>
          <span className="live-value num">↓ {fmtRate(point.netRxBytesPerSec)}</span>
          <span className="live-sub">
            ↑ {fmtRate(point.netTxBytesPerSec)} · {sample.network.map((n) => n.iface).join(', ') || DASH}
          </span>
        </div>
        <div className="live-item">
          <span className="live-label">CPU power</span>
          <span className="live-value num">{fmtWatts(sample.cpuPowerW)}</span>
          <span className="live-sub">{sample.cpuPowerW === null ? 'not readable (RAPL)' : 'package, RAPL'}</span>
        </div>
        {root ? (
          <div className="live-item">
            <span className="live-label">Disk /</span>
            <span className="live-value num">{fmtUsedTotal(root.usedBytes, root.totalBytes)}</span>
            <Meter value={ratio(root.usedBytes, root.totalBytes)} tone="mem" />
          </div>
        ) : null}
      </div>
      <GpuList host={name} sample={sample} />
    </section>
  );
});
