import { onBeforeUnmount, shallowRef, watch, type Ref, type WatchSource } from 'vue';

/**
 * A copy of `source` updated at most every `ms` (trailing edge), so fast streams (loss events)
 * do not rebuild a chart on every message.
 */
export function useThrottled<T>(source: WatchSource<T>, initial: T, ms = 250): Ref<T> {
  const out = shallowRef(initial) as Ref<T>;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = 0;
  let pending: T = initial;
  const flush = () => {
    timer = null;
    last = Date.now();
    out.value = pending;
  };
  watch(
    source,
    (value) => {
      pending = value;
      if (timer) return;
      const wait = Math.max(0, ms - (Date.now() - last));
      if (wait === 0) flush();
      else timer = setTimeout(flush, wait);
    },
    { immediate: true, deep: false },
  );
  onBeforeUnmount(() => {
    if (timer) clearTimeout(timer);
  });
  return out;
}
