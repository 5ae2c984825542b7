/** Types for wake_on_lan 1.0.0 (it bundles none; @types/wake_on_lan is not installed). */
declare module 'wake_on_lan' {
  export interface WakeOptions {
    /** Default 255.255.255.255. */
    address?: string;
    /** Default 9. */
    port?: number;
    /** Default 3. */
    num_packets?: number;
    /** Milliseconds between packets, default 100. */
    interval?: number;
  }
  /** 102 bytes: 6 x 0xff then the MAC 16 times. Throws on a malformed MAC. */
  export function createMagicPacket(mac: string): Buffer;
  export function wake(mac: string, opts: WakeOptions, callback?: (error?: Error | null) => void): void;
  export function wake(mac: string, callback?: (error?: Error | null) => void): void;
  const _default: { createMagicPacket: typeof createMagicPacket; wake: typeof wake };
  export default _default;
}
