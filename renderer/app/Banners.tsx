import { useFleet } from '../state/store.js';
import { InfoIcon, PlugOffIcon, WarnIcon } from '../ui/Icons.js';
import './banners.css';
import { dismissStoreProblems } from './navigation.js';

export function Banners() {
  const connection = useFleet((s) => s.connection);
  const storeProblems = useFleet((s) => (s.dismissedStoreProblems ? undefined : s.appInfo?.storeProblems));
  const secretStorage = useFleet((s) => s.appInfo?.secretStorage);
  const dataDir = useFleet((s) => s.appInfo?.dataDir);

  return (
    <div className="banners">
      {connection === 'closed' ? (
        <div className="banner banner-danger" role="alert" data-testid="banner-connection-lost">
          <PlugOffIcon />
          <div className="banner-text">
            <strong>Lost connection to Fleetwake core.</strong> What you see may be out of date and actions will
            fail. Restart Fleetwake, then reload this window.
          </div>
        </div>
      ) : null}
      {storeProblems && storeProblems.length > 0 ? (
        <div className="banner banner-warn" role="status" data-testid="banner-store-problems">
          <WarnIcon />
          <div className="banner-text">
            <strong>There was a problem with your saved data.</strong>
            <ul>
              {storeProblems.map((p, i) => (
                <li key={i}>{p}</li>
              ))}
            </ul>
            {dataDir ? (
              <span className="banner-sub">
                Data folder: <span className="mono">{dataDir}</span>
              </span>
            ) : null}
          </div>
          <button className="btn btn-ghost btn-sm" onClick={dismissStoreProblems}>
            Dismiss
          </button>
        </div>
      ) : null}
      {secretStorage === 'basic_text' || secretStorage === 'unavailable' ? (
        <div className="banner banner-info" role="status" data-testid="banner-secret-storage">
          <InfoIcon />
          <div className="banner-text">
            {secretStorage === 'basic_text' ? (
              <>
                <strong>Passwords can't be saved securely on this system.</strong> No supported keychain (such as
                GNOME Keyring or KWallet) was found, so Fleetwake will ask for passwords and passphrases each time
                instead of storing them.
              </>
            ) : (
              <>
                <strong>No system keychain available.</strong> Fleetwake will ask for passwords and passphrases each
                time instead of storing them.
              </>
            )}
          </div>
        </div>
      ) : null}
    </div>
  );
}
