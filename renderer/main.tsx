import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getBridge } from './bridge/index.js';
import { App } from './components/App.js';
import { followHostLinks } from './lib/deeplink.js';
import { openHost, startFleetSync } from './state/store.js';
import './styles.css';

startFleetSync(getBridge());
followHostLinks(openHost);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
