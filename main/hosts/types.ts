/** A host as it is stored. Secrets are never part of it. */
export interface HostRecord {
  name: string;
  host: string;
  port: number;
  user: string;
  identityFile: string | null;
  passwordEnv: string | null;
  jump: string | null;
  /** Lower-case, colon separated: aa:bb:cc:dd:ee:ff. */
  mac: string | null;
  wolAddress: string | null;
  wolPort: number | null;
}
