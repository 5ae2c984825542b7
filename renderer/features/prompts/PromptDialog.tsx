import { useState, type FormEvent } from 'react';
import type { Prompt } from '../../../preload/api.js';
import { useFleet } from '../../state/store.js';
import { ModalButtons } from '../../ui/DialogActions.js';
import { errorMessage } from '../../ui/format.js';
import { Modal } from '../../ui/Modal.js';
import { answerPrompt } from './actions.js';

const KIND_EYEBROW: Record<Prompt['kind'], string> = {
  passphrase: 'Key passphrase',
  password: 'Password',
  'keyboard-interactive': 'Server question',
  'sudo-password': 'Administrator password',
};

/** What the sudo password is for and where it goes, said every time it is asked for. */
export function sudoExplanation(host: string): string {
  return `Administrator password for ${host}: used once for sudo, sent to sudo on the server, never stored unless you choose to remember it.`;
}

/** Shows the oldest pending prompt; the next one appears when it closes. */
export function PromptHost() {
  const prompt = useFleet((s) => s.prompts[0]);
  return prompt ? <PromptDialog key={prompt.id} prompt={prompt} /> : null;
}

function PromptDialog({ prompt }: { prompt: Prompt }) {
  const [answers, setAnswers] = useState<string[]>(() => prompt.prompts.map(() => ''));
  const [remember, setRemember] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const answer = async (values: string[] | null, keep: boolean) => {
    setBusy(true);
    setError(null);
    try {
      await answerPrompt(prompt.id, values, keep);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void answer(answers, prompt.canRemember && remember);
  };
  const cancel = () => void answer(null, false);

  return (
    <Modal title={prompt.title} eyebrow={`${KIND_EYEBROW[prompt.kind]} · ${prompt.host}`} onClose={cancel} testId="prompt-dialog" size="sm">
      <form className="form" onSubmit={submit}>
        {prompt.kind === 'sudo-password' ? (
          <p className="prompt-sudo" data-testid="prompt-sudo-note">
            {sudoExplanation(prompt.host)}
          </p>
        ) : null}
        {prompt.instructions ? <p className="lead prompt-instructions">{prompt.instructions}</p> : null}
        {prompt.prompts.map((p, i) => {
          const id = `prompt-${prompt.id}-${i}`;
          return (
            <div className="field" key={i}>
              <label htmlFor={id}>{p.text.trim() || `Answer ${i + 1}`}</label>
              <input
                id={id}
                type={p.echo ? 'text' : 'password'}
                className={p.echo ? undefined : 'mono'}
                value={answers[i] ?? ''}
                onChange={(e) => {
                  const v = e.target.value;
                  setAnswers((a) => a.map((x, j) => (j === i ? v : x)));
                }}
                autoComplete="off"
                spellCheck={false}
                data-testid={`prompt-input-${i}`}
              />
            </div>
          );
        })}
        {prompt.canRemember ? (
          <label className="check">
            <input type="checkbox" checked={remember} onChange={(e) => setRemember(e.target.checked)} />
            <span>Remember in the system keychain</span>
          </label>
        ) : null}
        {error ? (
          <div className="form-error" role="alert">
            {error}
          </div>
        ) : null}
        <ModalButtons onCancel={cancel} cancelDisabled={busy} submit disabled={busy}>
          {busy ? 'Sending…' : 'Continue'}
        </ModalButtons>
      </form>
    </Modal>
  );
}
