import { Fragment, useLayoutEffect } from 'react';
import { openDialog, openEnergy } from '../../app/navigation.js';
import { selectBoardOrderKey } from './board-order.js';
import { useFleet } from '../../state/store.js';
import { BoltIcon, ImportIcon, LogoMark, PlusIcon, ServerIcon } from '../../ui/Icons.js';
import { EnergyView } from '../energy/EnergyView.js';
import { HostPage } from '../host-page/HostPage.js';
import { HostCard } from '../hosts/HostCard.js';
import { selectSummaryKey, summaryParts } from './summary.js';
import './fleet.css';

export function Header() {
  const summaryKey = useFleet(selectSummaryKey);
  const parts = summaryParts(summaryKey);
  const hasHosts = useFleet((s) => s.hostNames.length > 0);
  const version = useFleet((s) => s.appInfo?.version);
  return (
    <header className="app-header">
      <div className="brand">
        <LogoMark />
        <div>
          <h1 className="brand-name">Fleetwake</h1>
          <div className="fleet-summary" data-testid="fleet-summary" aria-live="polite">
            {parts.length === 0
              ? 'No hosts yet'
              : parts.map((p, i) => (
                  <Fragment key={i}>
                    {i > 0 ? <span className="sum-sep"> · </span> : null}
                    <span className={`sum-part sum-${p.tone}`}>{p.text}</span>
                  </Fragment>
                ))}
          </div>
        </div>
      </div>
      <div className="header-actions">
        {version ? <span className="version">v{version}</span> : null}
        {hasHosts ? (
          <>
            <button className="btn btn-ghost" onClick={openEnergy} data-testid="open-energy" title="Energy saved by sleeping, and preferences">
              <BoltIcon />
              Energy
            </button>
            <button className="btn btn-secondary" onClick={() => openDialog({ kind: 'import' })}>
              <ImportIcon />
              Import from SSH config
            </button>
            <button className="btn btn-primary" onClick={() => openDialog({ kind: 'add' })}>
              <PlusIcon />
              Add host
            </button>
          </>
        ) : null}
      </div>
    </header>
  );
}

/** Where the grid was scrolled to when a host page opened, to come back to the same place. */
let gridScrollY = 0;

export function HostGrid() {
  const order = useFleet(selectBoardOrderKey);
  const names = order ? order.split('\n') : [];
  useLayoutEffect(() => {
    if (gridScrollY) window.scrollTo(0, gridScrollY);
    return () => {
      gridScrollY = window.scrollY;
    };
  }, []);
  return (
    <section className="host-grid" data-testid="host-grid">
      {names.map((n) => (
        <HostCard key={n} name={n} />
      ))}
    </section>
  );
}

export function EmptyState() {
  return (
    <section className="empty" data-testid="empty-state">
      <div className="empty-art" aria-hidden="true">
        <ServerIcon size={40} />
      </div>
      <h2 className="empty-title">Bring your GPU servers into one view</h2>
      <p className="empty-lead">
        Fleetwake connects to your headless servers over SSH and shows, at a glance, which are up, which need
        attention and why. Add a server to get started.
      </p>
      <div className="empty-options">
        <div className="empty-option">
          <div className="empty-option-icon">
            <PlusIcon size={18} />
          </div>
          <h3>Add a host by hand</h3>
          <p>Enter its address, your user name and the SSH key to use. Jump hosts work too.</p>
          <button className="btn btn-primary" onClick={() => openDialog({ kind: 'add' })}>
            <PlusIcon />
            Add host
          </button>
        </div>
        <div className="empty-option">
          <div className="empty-option-icon">
            <ImportIcon size={18} />
          </div>
          <h3>
            Import from <span className="mono">~/.ssh/config</span>
          </h3>
          <p>Already reach them with plain ssh? Pick the entries you want; nothing on the servers changes.</p>
          <button className="btn btn-secondary" onClick={() => openDialog({ kind: 'import' })}>
            <ImportIcon />
            Import from SSH config
          </button>
        </div>
      </div>
      <p className="empty-foot">
        Fleetwake only uses SSH. Passwords and passphrases stay in your system keychain, and only if you ask.
      </p>
    </section>
  );
}

export function FleetView() {
  const loaded = useFleet((s) => s.loaded);
  const loadError = useFleet((s) => s.loadError);
  const empty = useFleet((s) => s.hostNames.length === 0);
  const route = useFleet((s) => s.route);
  let body;
  if (!loaded) {
    body = (
      <div className="loading" data-testid="loading">
        <span className="spinner" aria-hidden="true" />
        Connecting to Fleetwake core…
      </div>
    );
  } else if (loadError) {
    body = (
      <div className="load-error" role="alert" data-testid="load-error">
        <h2>Could not load your fleet</h2>
        <p>{loadError}</p>
      </div>
    );
  } else if (route.page === 'energy') {
    body = <EnergyView />;
  } else if (route.page === 'host') {
    body = <HostPage key={route.name} name={route.name} />;
  } else if (empty) {
    body = <EmptyState />;
  } else {
    body = <HostGrid />;
  }
  return (
    <>
      <Header />
      <main className="app-main">{body}</main>
    </>
  );
}
