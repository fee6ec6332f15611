/**
 * The IDE's entry point: credentials from the URL fragment, the services this server offers
 * (`ide.json`), one connection, the frame with every usable pane, then connect.
 */

import '@xterm/xterm/css/xterm.css';
import './app.css';
import './panes/index';
import { Bus } from './bus';
import { Connection } from './connection';
import { h } from './dom';
import { buildFrame } from './layout';
import { usablePanes, type PaneContext } from './panes/registry';
import { connectionIndicator } from './status';
import { identityOf, takeToken } from './token';

async function offeredServices(): Promise<Set<string>> {
  try {
    const response = await fetch('ide.json', { cache: 'no-store' });
    const body = (await response.json()) as { services?: string[] };
    return new Set(body.services ?? []);
  } catch {
    return new Set();
  }
}

async function boot(): Promise<void> {
  const me = identityOf(takeToken());
  const services = await offeredServices();
  const bus = new Bus();
  const conn = new Connection(me.token);
  const ctx: PaneContext = { conn, bus, me, services, readOnly: me.role === 'read' };
  const frame = buildFrame(usablePanes(services, me.role), ctx, bus);
  if (ctx.readOnly) {
    frame.header.append(
      h('span', { class: 'badge readonly', 'data-testid': 'read-only', title: 'You can look but not change anything' }, 'Read only'),
    );
  }
  frame.header.append(h('span', { class: 'me', title: `Signed in as ${me.name} (${me.role})` }, me.name), connectionIndicator(conn));
  const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to editor');
  document.body.replaceChildren(skip, frame.root);
  conn.start();
}

void boot();
