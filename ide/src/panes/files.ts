/**
 * The file tree (gcsfiles; live with fsevents): a WAI-ARIA tree — arrows move, Right/Left
 * expand/collapse, Enter opens, F2 renames, Delete removes — with New file / New folder buttons.
 * Directories are listed when expanded; any event under a listed directory re-lists it.
 */

import type { api } from '@replit/protocol';
import type { LiveChannel } from '../connection';
import { h } from '../dom';
import { registerPane, type PaneContext } from './registry';

interface Entry {
  path: string;
  name: string;
  dir: boolean;
}

const ROOT = '.';
const join = (dir: string, name: string) => (dir === ROOT ? name : `${dir}/${name}`);
const parentOf = (path: string) => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ROOT);

class FileTree {
  private readonly listing = new Map<string, Entry[]>();
  private readonly expanded = new Set<string>([ROOT]);
  private readonly tree = h('ul', { role: 'tree', 'aria-label': 'Files', class: 'tree' });
  private readonly message = h('p', { class: 'tree-message', role: 'status' });
  private focused = '';
  private events: LiveChannel | null = null;

  constructor(
    host: HTMLElement,
    private readonly files: LiveChannel,
    private readonly ctx: PaneContext,
  ) {
    const toolbar = h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'File actions' });
    if (!ctx.readOnly) {
      toolbar.append(this.button('New file', () => void this.create(false)));
      toolbar.append(this.button('New folder', () => void this.create(true)));
    }
    host.append(h('h2', { class: 'pane-title' }, 'Files'), toolbar, this.tree, this.message);
    this.tree.addEventListener('keydown', (event) => this.onKey(event));
    files.onOpen(() => void this.refreshAll());
    if (ctx.services.has('fsevents')) {
      const events = ctx.conn.open('fsevents');
      this.events = events;
      events.onOpen(() => this.subscribe([...this.expanded]));
      events.onCommand((cmd) => this.onEvent(cmd));
    }
  }

  private button(label: string, action: () => void): HTMLButtonElement {
    const button = h('button', { type: 'button' }, label);
    button.addEventListener('click', action);
    return button;
  }

  private subscribe(dirs: string[]): void {
    this.events?.send({ subscribeFile: { files: dirs.map((path) => ({ path })) } });
  }

  private onEvent(cmd: api.Command): void {
    const event = cmd.fileEvent;
    if (!event) return;
    const paths = [event.file?.path ?? '', event.dest?.path ?? ''].filter(Boolean);
    for (const path of paths) {
      const parent = parentOf(path);
      if (this.listing.has(parent)) void this.list(parent);
      if (this.listing.has(path)) void this.list(path);
    }
    // Move (1) and Remove (2) take the path away from open editors.
    if (event.op === 1 || event.op === 2) this.ctx.bus.emit('pathGone', event.file?.path ?? '');
  }

  private async refreshAll(): Promise<void> {
    await Promise.all([...this.expanded].map((dir) => this.list(dir)));
  }

  private async list(dir: string): Promise<void> {
    const reply = await this.files.request({ readdir: { path: dir } }).catch(() => null);
    if (!reply) return;
    if (reply.error) {
      this.listing.delete(dir);
      this.expanded.delete(dir);
      if (dir === ROOT) this.message.textContent = reply.error;
    } else {
      const entries = (reply.files?.files ?? []).map((file) => ({
        path: join(dir, file.path ?? ''),
        name: file.path ?? '',
        dir: file.type === 1,
      }));
      entries.sort((a, b) => Number(b.dir) - Number(a.dir) || (a.name < b.name ? -1 : 1));
      this.listing.set(dir, entries);
    }
    this.render();
  }

  private render(): void {
    const active = document.activeElement?.closest('[role=treeitem]') !== null;
    this.tree.replaceChildren(...this.items(ROOT, 1));
    const items = this.visibleItems();
    if (!items.some((item) => item.dataset.path === this.focused)) this.focused = items[0]?.dataset.path ?? '';
    for (const item of items) item.tabIndex = item.dataset.path === this.focused ? 0 : -1;
    if (active) items.find((item) => item.dataset.path === this.focused)?.focus();
  }

  private items(dir: string, level: number): HTMLElement[] {
    return (this.listing.get(dir) ?? []).map((entry) => {
      const open = entry.dir && this.expanded.has(entry.path);
      const label = h('span', { class: `tree-label ${entry.dir ? 'is-dir' : 'is-file'}` }, entry.name);
      const item = h('li', {
        role: 'treeitem', 'aria-level': level, 'data-path': entry.path,
        'aria-expanded': entry.dir ? String(open) : undefined, 'data-dir': entry.dir,
      }, label);
      label.style.paddingLeft = `${(level - 1) * 0.9 + 0.4}rem`;
      label.addEventListener('click', () => this.activate(entry));
      if (open) item.append(h('ul', { role: 'group' }, ...this.items(entry.path, level + 1)));
      return item;
    });
  }

  private visibleItems(): HTMLElement[] {
    return [...this.tree.querySelectorAll<HTMLElement>('[role=treeitem]')];
  }

  private entryOf(item: HTMLElement): Entry {
    const path = item.dataset.path ?? '';
    return { path, name: path.split('/').pop() ?? path, dir: item.dataset.dir !== undefined };
  }

  private activate(entry: Entry): void {
    this.focused = entry.path;
    if (!entry.dir) {
      this.ctx.bus.emit('openFile', entry.path);
      this.render();
      return;
    }
    if (this.expanded.delete(entry.path)) {
      this.render();
      return;
    }
    this.expanded.add(entry.path);
    this.subscribe([entry.path]);
    void this.list(entry.path);
  }

  private onKey(event: KeyboardEvent): void {
    const items = this.visibleItems();
    const index = items.findIndex((item) => item === document.activeElement);
    if (index < 0) return;
    const entry = this.entryOf(items[index]);
    const move = (to: number) => {
      const target = items[Math.max(0, Math.min(items.length - 1, to))];
      this.focused = target.dataset.path ?? '';
      for (const item of items) item.tabIndex = item === target ? 0 : -1;
      target.focus();
    };
    const open = entry.dir && this.expanded.has(entry.path);
    const keys: Record<string, () => void> = {
      ArrowDown: () => move(index + 1),
      ArrowUp: () => move(index - 1),
      Home: () => move(0),
      End: () => move(items.length - 1),
      ArrowRight: () => (entry.dir && !open ? this.activate(entry) : move(index + 1)),
      ArrowLeft: () => (open ? this.activate(entry) : move(items.findIndex((i) => i.dataset.path === parentOf(entry.path)))),
      Enter: () => this.activate(entry),
      F2: () => void this.rename(entry),
      Delete: () => void this.remove(entry),
    };
    if (event.key in keys) {
      event.preventDefault();
      keys[event.key]();
    }
  }

  private async run(cmd: api.ICommand): Promise<void> {
    const reply = await this.files.request(cmd).catch((error: Error) => ({ error: error.message }));
    this.message.textContent = reply.error || '';
  }

  private async create(dir: boolean): Promise<void> {
    const path = window.prompt(dir ? 'New folder path' : 'New file path');
    if (!path) return;
    await this.run(dir ? { mkdir: { path } } : { write: { path, content: new Uint8Array() } });
    await this.list(parentOf(path));
    if (!dir) this.ctx.bus.emit('openFile', path);
  }

  private async rename(entry: Entry): Promise<void> {
    if (this.ctx.readOnly) return;
    const newPath = window.prompt(`Rename ${entry.path} to`, entry.path);
    if (!newPath || newPath === entry.path) return;
    await this.run({ move: { oldPath: entry.path, newPath } });
    this.ctx.bus.emit('pathGone', entry.path);
    await Promise.all([this.list(parentOf(entry.path)), this.list(parentOf(newPath))]);
  }

  private async remove(entry: Entry): Promise<void> {
    if (this.ctx.readOnly || !window.confirm(`Delete ${entry.path}?`)) return;
    await this.run({ remove: { path: entry.path } });
    this.ctx.bus.emit('pathGone', entry.path);
    await this.list(parentOf(entry.path));
  }
}

registerPane({
  id: 'files',
  title: 'Files',
  slot: 'side',
  services: ['gcsfiles'],
  minRole: 'read',
  order: 10,
  mount(host, ctx) {
    new FileTree(host, ctx.conn.open('gcsfiles'), ctx);
  },
});
