/** Tiny inline SVG icons (no icon font, no remote assets: CSP allows none). */
import type { ReactNode } from 'react';

interface P {
  size?: number;
}

/** One stroked 24×24 icon; every icon shares the stroke, so only its shapes differ. */
const icon =
  (shapes: ReactNode, defaultSize = 16) =>
  ({ size = defaultSize }: P) => (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.8}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden
    >
      {shapes}
    </svg>
  );

export const LogoMark = ({ size = 28 }: P) => (
  <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true">
    <rect className="logo-bg" x="1" y="1" width="30" height="30" rx="8" />
    <path d="M7 20.5c3-4 6-4 9 0s6 4 9 0" stroke="#fff" strokeWidth="2.4" fill="none" strokeLinecap="round" />
    <path d="M7 13.5c3-4 6-4 9 0s6 4 9 0" stroke="#fff" strokeOpacity=".55" strokeWidth="2.4" fill="none" strokeLinecap="round" />
  </svg>
);

export const PlusIcon = icon(<path d="M12 5v14M5 12h14" />);
export const ImportIcon = icon(<path d="M12 4v11M7.5 10.5 12 15l4.5-4.5M5 19h14" />);
export const ServerIcon = icon(<><rect x="3.5" y="4" width="17" height="7" rx="2" /><rect x="3.5" y="13" width="17" height="7" rx="2" /><path d="M7.5 7.5h.01M7.5 16.5h.01" /></>);
export const KeyIcon = icon(<><circle cx="8" cy="15" r="4" /><path d="m11 12 8-8M16 7l2 2M14 9l2 2" /></>);
export const WarnIcon = icon(<><path d="M12 3.5 2.5 20h19L12 3.5Z" /><path d="M12 10v4.5M12 17.5h.01" /></>);
export const InfoIcon = icon(<><circle cx="12" cy="12" r="9" /><path d="M12 11v5.5M12 7.5h.01" /></>);
export const LinkIcon = icon(<path d="M5 12h10M11 7l5 5-5 5" />, 14);
export const PlugOffIcon = icon(<><path d="M9 3v4M15 3v4M6 7h12v3a6 6 0 0 1-12 0V7ZM12 16v5" /><path d="M3 3l18 18" /></>);
export const ChevronIcon = icon(<path d="m9.5 6 6 6-6 6" />);
export const BackIcon = icon(<path d="M19 12H5M11 6l-6 6 6 6" />);
export const CheckIcon = icon(<path d="m5 12.5 4.5 4.5L19 7.5" />);
export const CrossIcon = icon(<path d="M6.5 6.5l11 11M17.5 6.5l-11 11" />);
export const SkipIcon = icon(<path d="M6 12h12" />);
export const ChipIcon = icon(<><rect x="6" y="6" width="12" height="12" rx="2" /><path d="M9 2.5V6M15 2.5V6M9 18v3.5M15 18v3.5M2.5 9H6M2.5 15H6M18 9h3.5M18 15h3.5" /></>);
export const MoonIcon = icon(<path d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5Z" />);
export const SunriseIcon = icon(<path d="M5 18a7 7 0 0 1 14 0M3 18h18M12 4v4M5.6 9.6l1.4 1.4M18.4 9.6 17 11" />);
export const PowerIcon = icon(<path d="M12 3v8M7 6.3a7 7 0 1 0 10 0" />);
export const BoltIcon = icon(<path d="M13 2.5 5 13.5h6l-1 8 8-11h-6l1-8Z" />);
export const ActivityIcon = icon(<path d="M3 12h4l2.5-6 5 12 2.5-6h4" />);
export const QuestionIcon = icon(<><circle cx="12" cy="12" r="9" /><path d="M9.5 9.5a2.5 2.5 0 1 1 3.5 2.3c-.6.3-1 .8-1 1.5v.7M12 17h.01" /></>);
