import { useEffect, useRef } from 'react';

/**
 * Infinite scroll: calls `onEnd` when the returned element (put after the list) comes into view.
 * Lists also keep a "Load more" button there, so keyboard users page the same way.
 */
export function useEndOfList<T extends HTMLElement>(onEnd: () => void, active: boolean) {
  const element = useRef<T>(null);
  const latest = useRef(onEnd);
  latest.current = onEnd;
  useEffect(() => {
    const target = element.current;
    if (!target || !active) return;
    const observer = new IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && latest.current(), { rootMargin: '200px' });
    observer.observe(target);
    return () => observer.disconnect();
  }, [active]);
  return element;
}
