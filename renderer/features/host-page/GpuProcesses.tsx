import type { MetricsSample } from '../../../preload/api.js';
import { fmtBytes, shortGpuName } from '../../ui/format.js';
import './tables.css';

export function GpuProcesses({ sample }: { sample: MetricsSample }) {
  const byUuid = new Map(sample.gpus.map((g) => [g.uuid, g]));
  const procs = [...sample.gpuProcesses].sort((a, b) => (b.usedMemoryBytes ?? -1) - (a.usedMemoryBytes ?? -1));
  return (
    <section className="panel" data-testid="gpu-processes">
      <header className="panel-head">
        <h3>GPU processes</h3>
        <span className="muted">{procs.length ? `${procs.length} running` : ''}</span>
      </header>
      {procs.length === 0 ? (
        <p className="panel-empty">No processes are using the GPUs right now.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th className="num">PID</th>
                <th>Process</th>
                <th>GPU</th>
                <th className="num">GPU memory</th>
              </tr>
            </thead>
            <tbody>
              {procs.map((p) => {
                const g = byUuid.get(p.gpuUuid);
                return (
                  <tr key={`${p.pid}-${p.gpuUuid}`}>
                    <td className="num mono">{p.pid}</td>
                    <td className="mono proc-name" title={p.processName}>
                      {p.processName}
                    </td>
                    <td title={p.gpuUuid}>{g ? `${g.index} · ${shortGpuName(g.name)}` : <span className="mono muted">{p.gpuUuid.slice(0, 12)}…</span>}</td>
                    <td className="num">{fmtBytes(p.usedMemoryBytes)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
