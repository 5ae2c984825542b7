/**
 * `#host=<name>` in the page URL opens that host's page. The Electron shell sets it (tray "Open",
 * a clicked notification); other hash parameters (the harness `token`) are kept. After handling, the
 * parameter is removed so the same host can be opened again.
 */
export function hostFromHash(hash: string): string | null {
  const name = new URLSearchParams(hash.replace(/^#/, '')).get('host');
  return name && name.length <= 64 ? name : null;
}

export function hashWithoutHost(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  params.delete('host');
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}

/** Follow `#host=` now and on every hashchange. Returns an unsubscribe function. */
export function followHostLinks(open: (name: string) => void, win: Window = window): () => void {
  const check = () => {
    const name = hostFromHash(win.location.hash);
    if (!name) return;
    open(name);
    const { pathname, search } = win.location;
    win.history.replaceState(win.history.state, '', `${pathname}${search}${hashWithoutHost(win.location.hash)}`);
  };
  check();
  win.addEventListener('hashchange', check);
  return () => win.removeEventListener('hashchange', check);
}
