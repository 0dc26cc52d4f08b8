// The items of one tab, in the order the inbox has them (newest first: ids are ULIDs), and the
// <ul> that shows them. An aggregated item is shown once: when it grows it takes a newer id, and
// the line with its older id goes.

export class ItemList {
  /** `render(item)` makes an item's `<li>`; `activeElement()` is the focus inside the shadow root. */
  constructor(ul, render, activeElement) {
    this.ul = ul;
    this.render = render;
    this.activeElement = activeElement;
    /** id → item, ids newest first, an aggregated item's group key → the id it is shown under. */
    this.items = new Map();
    this.order = [];
    this.groups = new Map();
    /** The next page's cursor; null on the last page. */
    this.cursor = null;
  }

  get size() {
    return this.order.length;
  }

  /** The newest id shown, where the live stream starts. */
  newest() {
    return this.order[0];
  }

  get(id) {
    return this.items.get(id);
  }

  clear() {
    this.items.clear();
    this.groups.clear();
    this.order = [];
    this.cursor = null;
    this.ul.replaceChildren();
  }

  li(id) {
    return this.ul.querySelector(`li[data-id="${CSS.escape(id)}"]`);
  }

  #remember(item) {
    this.items.set(item.id, item);
    if (item.group) this.groups.set(item.group.key, item.id);
  }

  /** Forgets the shown line a grown aggregated item replaces; false when the one shown is newer. */
  #replacesShown(item) {
    if (!item.group) return true;
    const shownId = this.groups.get(item.group.key);
    if (shownId === undefined || shownId === item.id) return true;
    if (shownId > item.id) return false;
    this.drop(shownId);
    return true;
  }

  /** Appends a page (older items), skipping what is shown already. */
  addPage(page) {
    for (const item of page.items) {
      if (this.items.has(item.id) || !this.#replacesShown(item)) continue;
      this.#remember(item);
      this.order.push(item.id);
      this.ul.append(this.render(item));
    }
    this.cursor = page.nextCursor ?? null;
  }

  /**
   * A live item where its id sorts (usually the top); false when it belongs to a page not loaded
   * yet or a newer line of its group is shown.
   */
  insert(item) {
    if (!this.#replacesShown(item)) return false;
    const at = this.order.findIndex((id) => id < item.id);
    if (at === -1 && this.cursor !== null) return false;
    this.#remember(item);
    const node = this.render(item);
    node.classList.add('fresh');
    if (at === -1) {
      this.order.push(item.id);
      this.ul.append(node);
    } else {
      this.ul.insertBefore(node, this.ul.children[at]);
      this.order.splice(at, 0, item.id);
    }
    return true;
  }

  /** Replaces a shown item's data and redraws it. */
  set(item) {
    this.#remember(item);
    this.redraw(item.id);
  }

  drop(id) {
    this.items.delete(id);
    this.order = this.order.filter((x) => x !== id);
    this.li(id)?.remove();
  }

  /** Takes an item out; the focus, when it was on it, goes to its neighbour or the list. */
  remove(id) {
    const li = this.li(id);
    const hadFocus = li?.contains(this.activeElement());
    const neighbour = li?.nextElementSibling ?? li?.previousElementSibling;
    this.drop(id);
    if (hadFocus) (neighbour?.querySelector('.item-main') ?? this.ul).focus();
  }

  /** Redraws one item in place, keeping the focus on the same control. */
  redraw(id) {
    const li = this.li(id);
    const item = this.items.get(id);
    if (!li || !item) return;
    const focused = this.activeElement();
    const controls = [...li.querySelectorAll('a, button')];
    const index = focused && li.contains(focused) ? controls.indexOf(focused) : -1;
    const next = this.render(item);
    if (li.classList.contains('linked')) {
      next.classList.add('linked');
      next.tabIndex = -1;
    }
    li.replaceWith(next);
    if (focused === li) next.focus();
    else if (index >= 0) next.querySelectorAll('a, button')[index]?.focus();
  }
}
