/**
 * The page's frame: header, file sidebar, editor, bottom panel (tabbed) and chat aside. Mounts
 * the usable panes into their slots; slots with several panes become a keyboard-usable tablist
 * (WAI-ARIA tabs: arrow keys move, Home/End jump).
 */

import type { Bus } from './bus';
import { h } from './dom';
import type { Pane, PaneContext, Slot } from './panes/registry';

interface Tabs {
  select(id: string): void;
}

function tablist(host: HTMLElement, label: string, panes: Pane[], ctx: PaneContext): Tabs {
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const bodies = h('div', { class: 'tab-bodies' });
  host.append(list, bodies);
  const tabs: HTMLButtonElement[] = [];
  const panels: HTMLElement[] = [];
  const select = (index: number, focus: boolean): void => {
    tabs.forEach((tab, i) => {
      tab.setAttribute('aria-selected', String(i === index));
      tab.tabIndex = i === index ? 0 : -1;
      panels[i].hidden = i !== index;
    });
    if (focus) tabs[index].focus();
    panels[index].dispatchEvent(new CustomEvent('pane-shown'));
  };
  panes.forEach((pane, index) => {
    const tab = h('button', {
      type: 'button', role: 'tab', id: `tab-${pane.id}`, 'aria-controls': `pane-${pane.id}`,
      'data-testid': `tab-${pane.id}`,
    }, pane.title);
    const panel = h('section', {
      class: `pane pane-${pane.id}`, role: 'tabpanel', id: `pane-${pane.id}`,
      'aria-labelledby': `tab-${pane.id}`,
    });
    tab.addEventListener('click', () => select(index, false));
    tab.addEventListener('keydown', (event) => {
      const moves: Record<string, number> = {
        ArrowRight: (index + 1) % panes.length, ArrowLeft: (index - 1 + panes.length) % panes.length,
        Home: 0, End: panes.length - 1,
      };
      if (event.key in moves) {
        event.preventDefault();
        select(moves[event.key], true);
      }
    });
    tabs.push(tab);
    panels.push(panel);
    list.append(tab);
    bodies.append(panel);
    pane.mount(panel, ctx);
  });
  if (panes.length > 0) select(0, false);
  return {
    select: (id) => {
      const index = panes.findIndex((pane) => pane.id === id);
      if (index >= 0) select(index, false);
    },
  };
}

function mountPlain(host: HTMLElement, panes: Pane[], ctx: PaneContext): void {
  for (const pane of panes) {
    const section = h('section', {
      class: `pane pane-${pane.id}`, id: `pane-${pane.id}`, 'aria-label': pane.title,
    });
    host.append(section);
    pane.mount(section, ctx);
  }
}

export interface Frame {
  root: HTMLElement;
  header: HTMLElement;
}

export function buildFrame(panes: Pane[], ctx: PaneContext, bus: Bus): Frame {
  const bySlot = (slot: Slot) => panes.filter((pane) => pane.slot === slot);
  const header = h('header', { class: 'topbar' }, h('h1', { class: 'brand' }, 'goval'));
  const headerPanes = h('div', { class: 'header-panes' });
  header.append(headerPanes);
  const side = h('nav', { class: 'side', 'aria-label': 'Workspace' });
  const main = h('main', { class: 'main', id: 'main' });
  const bottom = h('section', { class: 'bottom', 'aria-label': 'Tools' });
  const aside = h('aside', { class: 'aside', 'aria-label': 'Collaboration' });
  const root = h('div', { class: 'frame' }, header, side, main, bottom, aside);
  for (const [slot, host] of [['side', side], ['main', main], ['aside', aside]] as const) {
    mountPlain(host, bySlot(slot), ctx);
    host.hidden = bySlot(slot).length === 0;
  }
  mountPlain(headerPanes, bySlot('header'), ctx);
  const bottomPanes = bySlot('bottom');
  bottom.hidden = bottomPanes.length === 0;
  const tabs = tablist(bottom, 'Tools', bottomPanes, ctx);
  bus.on('showPane', (id) => tabs.select(id));
  return { root, header };
}
