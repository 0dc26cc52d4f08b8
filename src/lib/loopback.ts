import { isIPv4, isIPv6 } from 'node:net';

/**
 * True for a loopback address literal (127.0.0.0/8, ::1) or the name `localhost`; false for any
 * other name, including one that only starts like a loopback address (`127.evil.example`, which
 * DNS can point anywhere).
 */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  if (name === 'localhost') return true;
  if (isIPv4(name)) return name.startsWith('127.');
  const bare = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  return (
    isIPv6(bare) && (bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare) || bare === '::ffff:127.0.0.1')
  );
}
