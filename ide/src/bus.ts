/** Typed events between panes, so panes never import each other. */

import type { api } from '@replit/protocol';

export interface Member {
  id: number;
  name: string;
  session: number;
}

export interface Events {
  /** Open a file in the editor (from the tree, a link, ...). */
  openFile: string;
  /** A path was removed or renamed away: close its editor tab. */
  pathGone: string;
  /** Show a pane by id (bottom panel tab, for instance). */
  showPane: string;
  /** A workspace process started listening (channel-0 portOpen). */
  portOpen: api.IPortOpen;
  /** The header's Run/Stop button was pressed (the console pane owns the channel). */
  runRequest: 'run' | 'stop';
  /** The console's program state changed. */
  runState: 'Running' | 'Stopped';
  /** The presence roster changed. */
  members: Member[];
}

type Listener<T> = (value: T) => void;

export class Bus {
  private listeners = new Map<keyof Events, Set<Listener<never>>>();
  private last = new Map<keyof Events, unknown>();

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const set = this.listeners.get(name) ?? new Set();
    this.listeners.set(name, set);
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  emit<K extends keyof Events>(name: K, value: Events[K]): void {
    this.last.set(name, value);
    for (const listener of this.listeners.get(name) ?? []) {
      (listener as Listener<Events[K]>)(value);
    }
  }

  /** The last value emitted for `name`, for panes that mount late. */
  latest<K extends keyof Events>(name: K): Events[K] | undefined {
    return this.last.get(name) as Events[K] | undefined;
  }
}
