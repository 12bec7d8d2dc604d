/**
 * True for an object made by `{}` or `Object.create(null)`: the values that map to a JSON object, a
 * Flyte map or a struct. Arrays, `Date`s, `Buffer`s, `Map`s and class instances are not plain objects.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
