import { useEffect, useMemo, useRef, useState } from 'react';
import { toHistoryPoint, type AgentState, type HistoryPoint, type HistoryRange, type MetricsSample } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { errorMessage } from '../../ui/format.js';
import { loadHistory } from './actions.js';
import { historyKey, selectHistory } from './store.js';

/** 1 h history is refetched this often while shown; live samples fill in between. */
const REFRESH_1H_MS = 30_000;
/** A history of a just-started agent (too few samples to know its resolution yet) is refetched sooner. */
const REFRESH_THIN_MS = 3_000;
const THIN_POINTS = 3;

/** The stored history of one range: fetched when missing or stale, and every REFRESH_1H_MS for 1 h. */
function useStoredHistory(name: string, range: HistoryRange, agentState: AgentState) {
  const agentUp = agentState === 'running' || agentState === 'outdated';
  const entry = useFleet(selectHistory(name, range));
  const thin = entry !== undefined && entry.history.points.length < THIN_POINTS;
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  useEffect(() => {
    let cancelled = false;
    const fetchIt = async () => {
      setLoading(true);
      try {
        await loadHistory(name, range);
        if (!cancelled) setError(null);
      } catch (err) {
        if (!cancelled) setError(errorMessage(err));
      } finally {
        if (!cancelled) setLoading(false);
      }
    };
    const cached = useFleet.getState().history[historyKey(name, range)];
    if (!agentUp && !cached) {
      setLoading(false);
      return;
    }
    const every = thin && agentUp ? REFRESH_THIN_MS : range === '1h' ? REFRESH_1H_MS : null;
    const maxAge = every ?? 5 * 60_000;
    if (!cached || Date.now() - cached.fetchedAt > maxAge) void fetchIt();
    const timer = every !== null ? setInterval(() => void fetchIt(), every) : undefined;
    return () => {
      cancelled = true;
      if (timer) clearInterval(timer);
    };
  }, [name, range, agentUp, thin]);
  return { entry, error, loading };
}

/**
 * The points to chart for one range. Live samples extend the 1 h view between refreshes, one point
 * per history step, made by the same toHistoryPoint the agent stores, so the two never disagree.
 */
export function useHistory(name: string, range: HistoryRange, sample: MetricsSample | undefined, agentState: AgentState) {
  const { entry, error, loading } = useStoredHistory(name, range, agentState);
  const history = entry?.history;

  const [tail, setTail] = useState<HistoryPoint[]>([]);
  const lastHistT = history?.points.at(-1)?.t ?? 0;
  const stepMs = Math.max(5_000, (history?.resolutionSeconds ?? 10) * 1000);
  const lastHistRef = useRef(lastHistT);
  lastHistRef.current = lastHistT;
  useEffect(() => {
    if (!sample || range !== '1h') return;
    setTail((prev) => {
      const kept = prev.length && prev[0]!.t <= lastHistRef.current ? prev.filter((p) => p.t > lastHistRef.current) : prev;
      const lastT = kept.at(-1)?.t ?? lastHistRef.current;
      if (sample.sampledAt - lastT < stepMs) return kept;
      return [...kept, toHistoryPoint(sample)].slice(-720);
    });
  }, [sample, range, stepMs]);

  const points = useMemo(() => {
    const base = history?.points ?? [];
    if (range !== '1h') return base;
    const extra = tail.filter((p) => p.t > lastHistT);
    return extra.length ? [...base, ...extra] : base;
  }, [history, tail, range, lastHistT]);

  return { entry, history, error, loading, points, stepMs };
}
