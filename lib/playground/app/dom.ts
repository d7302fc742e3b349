// Small DOM helpers for the page: typed lookups and element building
// (text goes in as text nodes, never as HTML).

/** The element with this id, of the expected class; throws when the page lacks it (a bug in index.html). */
export function byId<T extends HTMLElement>(id: string, type: { new(): T }): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page element #${id} missing or not a ${type.name}`);
  return el;
}

type Child = Node | string | undefined;

/** `<tag class=... attrs...>children</tag>`; strings become text nodes. */
export function h(tag: string, attrs: Readonly<Record<string, string>> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) if (c !== undefined) el.append(c);
  return el;
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren(...children.filter((c): c is Node | string => c !== undefined));
}
