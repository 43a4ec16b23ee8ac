/** Decision ids (src/gate/gate.ts timeOrderedId): UUIDv7 layout, strictly increasing within a process, unique. */
import { timeOrderedId } from '../../src/gate/gate';

const UUID7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('ids have the UUIDv7 layout and carry the millisecond they were made', () => {
  const id = timeOrderedId(Date.UTC(2026, 10, 30, 9, 30));
  expect(id).toMatch(UUID7);
  expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBeGreaterThanOrEqual(Date.UTC(2026, 10, 30, 9, 30));
});

test('ids sort in creation order, within one millisecond (counter overflow included) and when the clock steps back', () => {
  const ids: string[] = [];
  const t = Date.UTC(2030, 0, 1);
  for (let i = 0; i < 10_000; i++) ids.push(timeOrderedId(t)); // more than the 12-bit counter holds
  ids.push(timeOrderedId(t - 60_000)); // clock stepped back a minute
  ids.push(timeOrderedId(t + 3_600_000));
  for (const id of ids) expect(id).toMatch(UUID7);
  expect([...ids].sort()).toEqual(ids);
  expect(new Set(ids).size).toBe(ids.length);
});

test('ids of the same millisecond differ in their random tail', () => {
  const a = timeOrderedId(Date.UTC(2040, 0, 1));
  const b = timeOrderedId(Date.UTC(2040, 0, 1));
  expect(a.slice(19)).not.toBe(b.slice(19));
});
