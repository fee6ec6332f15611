/** The connection indicator in the header: a live region that announces every change. */

import type { Connection, Status } from './connection';
import { h } from './dom';

const LABELS: Record<Status, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Reconnecting…',
  failed: 'Connection failed',
};

export function connectionIndicator(conn: Connection): HTMLElement {
  const text = h('span', { class: 'conn-text' });
  const element = h(
    'div',
    { class: 'conn', role: 'status', 'aria-live': 'polite', 'data-testid': 'connection' },
    h('span', { class: 'conn-dot', 'aria-hidden': 'true' }),
    text,
  );
  conn.onStatus((status, detail) => {
    element.dataset.state = status;
    text.textContent = LABELS[status];
    element.title = detail || LABELS[status];
    if (status === 'failed') {
      const reload = h('button', { type: 'button', class: 'link' }, 'Reload');
      reload.addEventListener('click', () => window.location.reload());
      element.append(reload);
    }
  });
  return element;
}
