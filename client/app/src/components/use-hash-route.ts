import { useEffect, useState } from 'preact/hooks';
import { routeFromHash, routeToHash, type Navigate, type Route } from '../route.js';

/** The current route, following the URL fragment; `navigate` pushes a history entry. */
export function useHashRoute(): [Route, Navigate] {
  const [route, setRoute] = useState<Route>(() => routeFromHash(location.hash));
  useEffect(() => {
    const follow = () => setRoute(routeFromHash(location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);
  const navigate: Navigate = (next) => {
    const hash = routeToHash(next);
    if (hash !== location.hash) location.hash = hash;
    setRoute(routeFromHash(hash));
  };
  return [route, navigate];
}
