import { useId, useLayoutEffect, useRef, type ReactNode } from 'react';
import './modal.css';
import './forms.css';

interface ModalProps {
  title: ReactNode;
  /** Small line above the title (e.g. the host the dialog is about). */
  eyebrow?: ReactNode;
  onClose: () => void;
  children: ReactNode;
  testId: string;
  tone?: 'default' | 'danger';
  size?: 'sm' | 'md' | 'lg';
  /**
   * Name the dialog after its title (aria-labelledby). Off for the host form: Playwright's getByLabel also
   * matches labelled containers, and a title such as "Add host" would make getByLabel('Host') ambiguous.
   */
  labelled?: boolean;
}

/**
 * A modal built on the native <dialog> (top layer, focus containment, Escape, inert background).
 * Escape routes through `onClose` so the owner decides what "cancel" means. A click on the backdrop does
 * nothing: it must not throw away what the user typed.
 */
export function Modal({ title, eyebrow, onClose, children, testId, tone = 'default', size = 'md', labelled = true }: ModalProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  useLayoutEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (!d.open) d.showModal();
    return () => {
      if (d.open) d.close();
    };
  }, []);

  return (
    <dialog
      ref={ref}
      className={`modal modal-${size} ${tone === 'danger' ? 'modal-danger' : ''}`}
      aria-labelledby={labelled ? titleId : undefined}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onCloseRef.current();
      }}
    >
      <div className="modal-body">
        <header className="modal-header">
          {eyebrow ? <div className="modal-eyebrow">{eyebrow}</div> : null}
          <h2 id={titleId} className="modal-title">
            {title}
          </h2>
        </header>
        {children}
      </div>
    </dialog>
  );
}
