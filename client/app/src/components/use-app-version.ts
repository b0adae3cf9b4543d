import { useContext, useEffect, useState } from 'preact/hooks';
import { AppVersionContext, type AppVersion } from '../model/app-version.js';

/** The page's AppVersion, redrawing the caller whenever its state changes. */
export function useAppVersion(): AppVersion | undefined {
  const version = useContext(AppVersionContext);
  const [, setTick] = useState(0);
  useEffect(() => version?.subscribe(() => setTick((t) => t + 1)), [version]);
  return version;
}
