/**
 * Every stylesheet, in the order the rules had when they were one file. Features import their own
 * CSS too, but a module's CSS lands in the bundle where it is first imported, and rules of equal
 * specificity from different features meet on one element (`.msg` with `.msg-sleep`, `.chip` with
 * `.sleep-reason-idle`); importing them all here first keeps that order, and so every screen, as it was.
 */
import '../ui/base.css';
import './layout.css';
import '../ui/buttons.css';
import './banners.css';
import '../features/hosts/hosts.css';
import '../features/fleet/fleet.css';
import '../ui/modal.css';
import '../ui/forms.css';
import '../features/host-key/host-key.css';
import '../features/import/import.css';
import '../features/metrics/metrics.css';
import '../features/host-page/host-page.css';
import '../features/agent/deploy.css';
import '../features/metrics/history.css';
import '../features/host-page/tables.css';
import '../features/sleep/wake.css';
import '../features/sleep/idle.css';
import '../features/energy/energy.css';
