import { useState, type FormEvent } from 'react';
import type { ImportCandidate, ImportPreview, ImportResult } from '../../../preload/api.js';
import { closeDialog } from '../../app/navigation.js';
import { ModalButtons } from '../../ui/DialogActions.js';
import { errorMessage } from '../../ui/format.js';
import { Modal } from '../../ui/Modal.js';
import { ChooseFileButton } from '../hosts/ChooseFileButton.js';
import { importHosts, previewImport } from './actions.js';
import './import.css';

const preChecked = (c: ImportCandidate) => c.errors.length === 0 && !c.exists;

function describe(c: ImportCandidate): string {
  const i = c.input;
  const user = i.user ? `${i.user}@` : '';
  const port = i.port !== undefined && String(i.port) !== '22' ? `:${i.port}` : '';
  return `${user}${i.host || '?'}${port}`;
}

export function ImportDialog() {
  const [path, setPath] = useState('');
  const [preview, setPreview] = useState<ImportPreview | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState<'preview' | 'import' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ImportResult | null>(null);

  const runPreview = async (e?: FormEvent) => {
    e?.preventDefault();
    setBusy('preview');
    setError(null);
    setResult(null);
    try {
      const p = await previewImport(path.trim() === '' ? undefined : path.trim());
      setPreview(p);
      setSelected(new Set(p.candidates.filter(preChecked).map((c) => c.alias)));
    } catch (err) {
      setPreview(null);
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const runImport = async () => {
    if (!preview) return;
    setBusy('import');
    setError(null);
    try {
      const inputs = preview.candidates.filter((c) => selected.has(c.alias)).map((c) => c.input);
      const r = await importHosts(inputs);
      if (r.failed.length === 0) {
        closeDialog();
        return;
      }
      setResult(r);
      const added = new Set(r.added.map((h) => h.name));
      setSelected((s) => new Set([...s].filter((a) => !added.has(a))));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  };

  const toggle = (alias: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(alias)) n.delete(alias);
      else n.add(alias);
      return n;
    });

  return (
    <Modal title="Import from SSH config" eyebrow="Import" onClose={closeDialog} testId="import-dialog" size="lg">
      <form className="import-source" onSubmit={runPreview}>
        <div className="field grow">
          <label htmlFor="import-path">SSH config file</label>
          <div className="input-with-action">
          <input
            id="import-path"
            className="mono"
            value={path}
            onChange={(e) => setPath(e.target.value)}
            placeholder="~/.ssh/config"
            spellCheck={false}
            autoComplete="off"
            aria-describedby="import-path-hint"
          />
          <ChooseFileButton purpose="ssh-config" label="Browse for the SSH config" onChosen={setPath} onError={setError} />
          </div>
          <div className="field-hint" id="import-path-hint">
            Leave empty to read <span className="mono">~/.ssh/config</span>. Only the file is read; nothing is changed.
          </div>
        </div>
        <button type="submit" className="btn btn-secondary" disabled={busy !== null}>
          {busy === 'preview' ? 'Reading…' : 'Preview'}
        </button>
      </form>

      {error ? (
        <div className="form-error" role="alert" data-testid="import-error">
          {error}
        </div>
      ) : null}

      {preview ? (
        <div className="import-preview" data-testid="import-preview">
          <div className="import-file">
            {preview.candidates.length} {preview.candidates.length === 1 ? 'host' : 'hosts'} found in{' '}
            <span className="mono">{preview.file}</span>
          </div>
          {preview.warnings.length > 0 ? (
            <ul className="import-warnings" data-testid="import-warnings">
              {preview.warnings.map((w, i) => (
                <li key={i}>{w}</li>
              ))}
            </ul>
          ) : null}
          {preview.candidates.length > 0 ? (
            <ul className="candidates">
              {preview.candidates.map((c) => {
                const id = `import-cand-${c.alias}`;
                const failed = result?.failed.find((f) => f.name === (c.input.name || c.alias));
                return (
                  <li
                    key={c.alias}
                    className={`candidate ${c.errors.length ? 'has-errors' : ''}`}
                    data-testid={`import-candidate-${c.alias}`}
                  >
                    <input
                      type="checkbox"
                      id={id}
                      checked={selected.has(c.alias)}
                      onChange={() => toggle(c.alias)}
                    />
                    <div className="candidate-main">
                      <label htmlFor={id} className="candidate-name">
                        {c.alias}
                      </label>
                      <div className="candidate-target mono">
                        {describe(c)}
                        {c.input.jump ? <span className="chip">via {c.input.jump}</span> : null}
                        {c.input.identityFile ? <span className="candidate-key">{c.input.identityFile}</span> : null}
                      </div>
                      {c.errors.map((e, i) => (
                        <div key={i} className="candidate-error">
                          {e.field ? <span className="mono">{e.field}</span> : null} {e.message}
                        </div>
                      ))}
                      {failed ? (
                        <div className="candidate-error" data-testid={`import-failed-${c.alias}`}>
                          Not imported: {failed.error.message}
                        </div>
                      ) : null}
                    </div>
                    {c.exists ? <span className="chip chip-quiet">Already added</span> : null}
                  </li>
                );
              })}
            </ul>
          ) : (
            <p className="muted">No Host entries found.</p>
          )}
        </div>
      ) : null}

      {result ? (
        <div className="import-result" role="status" data-testid="import-result">
          Imported {result.added.length} {result.added.length === 1 ? 'host' : 'hosts'}; {result.failed.length} failed:
          <ul>
            {result.failed.map((f, i) => (
              <li key={i}>
                <strong>{f.name}</strong>: {f.error.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <ModalButtons cancelLabel={result ? 'Close' : 'Cancel'} disabled={!preview || selected.size === 0 || busy !== null} onConfirm={runImport}>
        {busy === 'import' ? 'Importing…' : `Import selected${selected.size ? ` (${selected.size})` : ''}`}
      </ModalButtons>
    </Modal>
  );
}
