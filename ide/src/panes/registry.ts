/**
 * The pane registry: every pane is one module that registers itself here, the way services
 * register on the server. The layout mounts each pane in its slot when the server offers the
 * services it needs and the user's role may open them. A new pane = one module + one import in
 * panes/index.ts.
 */

import type { Bus } from '../bus';
import type { Connection } from '../connection';
import type { Identity, Role } from '../token';

export type Slot = 'header' | 'side' | 'main' | 'bottom' | 'aside';

export interface PaneContext {
  conn: Connection;
  bus: Bus;
  me: Identity;
  /** Wire names of the services this server offers. */
  services: ReadonlySet<string>;
  /** True for the read role: inputs are disabled (the server refuses edits anyway). */
  readOnly: boolean;
}

export interface Pane {
  id: string;
  title: string;
  slot: Slot;
  /** Services the pane opens; it is left out when one is missing (crosis dies on a failed open). */
  services: string[];
  /** Weakest role that may open those services (protocol.md §3.3). */
  minRole: Role;
  /** Lower comes first within a slot. */
  order: number;
  mount(host: HTMLElement, ctx: PaneContext): void;
}

const panes: Pane[] = [];

export function registerPane(pane: Pane): void {
  if (panes.some((p) => p.id === pane.id)) throw new Error(`two panes named ${pane.id}`);
  panes.push(pane);
}

const STRENGTH: Role[] = ['read', 'write', 'owner'];

export function usablePanes(services: ReadonlySet<string>, role: Role): Pane[] {
  return panes
    .filter((pane) => pane.services.every((service) => services.has(service)))
    .filter((pane) => STRENGTH.indexOf(role) >= STRENGTH.indexOf(pane.minRole))
    .sort((a, b) => a.order - b.order);
}
