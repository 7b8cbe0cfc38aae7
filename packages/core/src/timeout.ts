/**
 * Settles with `work`, or, when `ms` of real time pass first, with what `onTimeout`
 * returns (or throws). A real timer, not the injected clock: it bounds real I/O. It never
 * keeps the process alive, and `work` is not cancelled: pass it a signal for that.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (e) {
        reject(e);
      }
    }, ms);
    timer.unref?.();
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
