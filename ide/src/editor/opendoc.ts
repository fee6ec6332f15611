/** What the editor pane needs from an open file, whichever way it is kept in sync. */

export interface OpenDoc {
  readonly path: string;
  readonly element: HTMLElement;
  focus(): void;
  close(): void;
  /** Only documents that have a history (OT) offer it; returns whether it is now shown. */
  toggleHistory?(): boolean;
}
