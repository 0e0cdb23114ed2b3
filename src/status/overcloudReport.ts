// The overcloud-wide status for people: src/status/render.ts renders it, as it renders status --plan.
import type { OvercloudReport } from './overcloudStatus.js';
import { overcloudView, renderStatusView, type RenderOptions } from './render.js';

export type { RenderOptions };

export function renderOvercloudStatus(r: OvercloudReport, o: RenderOptions): string {
  return renderStatusView(overcloudView(r), o);
}
