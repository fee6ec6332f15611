/** A tiny element builder, so panes stay readable without a UI framework. */

type Attrs = Record<string, string | number | boolean | undefined | null>;
type Child = Node | string | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child);
  }
  return element;
}

// Golden-angle steps keep consecutive ids (the usual case) far apart on the colour wheel.
const hueOf = (userId: number) => Math.round((userId * 137.508) % 360);

/** A user's colour (the same in every browser), bright enough for carets on the dark editor. */
export function colourFor(userId: number): string {
  return `hsl(${hueOf(userId)} 75% 70%)`;
}

/** The same hue, dark enough behind white text (WCAG AA contrast) for avatars and labels. */
export function badgeFor(userId: number): string {
  return `hsl(${hueOf(userId)} 60% 28%)`;
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[1][0] : (parts[0] ?? '?').slice(0, 2);
  return letters.toUpperCase();
}
