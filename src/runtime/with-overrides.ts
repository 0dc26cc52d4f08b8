/**
 * `target` with some methods replaced, for wrapping a port (counting, change notification)
 * without re-implementing it. The others are called on `target` itself: adapters keep state in
 * private class fields, which only their own `this` can reach.
 */
export function withOverrides<T extends object>(target: T, overrides: Partial<T>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const value = Reflect.get(t, prop, t);
      return typeof value === 'function' ? value.bind(t) : value;
    },
  });
}
