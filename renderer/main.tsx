import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import './app/styles.js';
import { App } from './app/App.js';
import { followHostLinks } from './app/deeplink.js';
import { openHost } from './app/navigation.js';
import { startFleetSync } from './app/sync.js';
import { getBridge } from './bridge/index.js';

startFleetSync(getBridge());
followHostLinks(openHost);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
