import { CheckIcon, CrossIcon, SkipIcon } from '../../ui/Icons.js';
import { timeAgo } from '../../ui/format.js';
import { OPERATION_LABEL, type DeployRun } from './agent.js';
import './deploy.css';

const STEP_ICON = {
  running: <span className="spinner spinner-xs" aria-hidden="true" />,
  done: <CheckIcon size={14} />,
  failed: <CrossIcon size={14} />,
  skipped: <SkipIcon size={14} />,
};

export function DeployPanel({ run }: { run: DeployRun }) {
  const label = OPERATION_LABEL[run.operation][run.state];
  const done = run.steps.filter((s) => s.state !== 'running').length;
  return (
    <section className={`panel deploy-panel deploy-${run.state}`} data-testid="deploy-progress" data-state={run.state} aria-live="polite">
      <header className="panel-head">
        <h3>{label}</h3>
        <span className="muted">
          {run.state === 'running' ? `${done} step${done === 1 ? '' : 's'} done` : `${timeAgo(run.at)} · ${Math.max(1, Math.round((run.at - run.startedAt) / 1000))} s`}
        </span>
      </header>
      {run.state === 'done' ? (
        <details className="deploy-details">
          <summary>Show {run.steps.length} steps</summary>
          <DeploySteps run={run} />
        </details>
      ) : (
        <DeploySteps run={run} />
      )}
    </section>
  );
}

function DeploySteps({ run }: { run: DeployRun }) {
  return (
    <ol className="deploy-steps">
      {run.steps.map((s) => (
        <li key={s.step} className={`deploy-step step-${s.state}`} data-step={s.step} data-state={s.state}>
          <span className="step-icon">{STEP_ICON[s.state]}</span>
          <span className="step-name">{s.step}</span>
          <span className="step-msg">{s.message}</span>
          <span className="step-time num">{s.state === 'running' ? '' : `${((s.at - s.startedAt) / 1000).toFixed(1)} s`}</span>
        </li>
      ))}
    </ol>
  );
}
