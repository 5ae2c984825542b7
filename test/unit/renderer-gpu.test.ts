/** A GPU the agent left alone because the kernel has it runtime-suspended is shown as such, not as empty readings. */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { GpuRow } from '../../renderer/features/metrics/Metrics.js';
import { gpuSample } from '../support/builders.js';

describe('a GPU row', () => {
  it('says a runtime-suspended GPU is in its low-power state and was not queried', () => {
    const html = renderToStaticMarkup(createElement(GpuRow, { host: 'h', gpu: gpuSample(0, { sleeping: true, utilPercent: 0, memUsedBytes: null, tempC: null, powerW: null }) }));
    expect(html).toContain('gpu-row-sleeping');
    expect(html).toMatch(/in its low-power state \(not queried, so as not to wake it\)/);
    expect(html).not.toMatch(/°C/);
  });

  it('shows readings for an awake one', () => {
    const html = renderToStaticMarkup(createElement(GpuRow, { host: 'h', gpu: gpuSample(0, { tempC: 41 }) }));
    expect(html).not.toContain('low-power');
    expect(html).toMatch(/41/);
  });
});

describe('the agent chip', () => {
  it('keeps the whole version in its tooltip, however short the chip cuts it', async () => {
    const { AgentChip } = await import('../../renderer/features/metrics/Metrics.js');
    const html = renderToStaticMarkup(createElement(AgentChip, { name: 'h', state: 'running', agent: { name: 'h', state: 'running', version: '0.1.0+825b1856c326', mode: 'system', since: 0 } }));
    expect(html).toContain('title="Agent v0.1.0+825b1856c326 (system mode)"');
  });
});
