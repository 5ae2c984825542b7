/** `ssh-ed25519` -> `ed25519`, `ecdsa-sha2-nistp256` -> `ecdsa`, `rsa-sha2-512` / `ssh-rsa` -> `rsa`. */
export function hostKeyFileType(keyType: string | undefined): string {
  const t = (keyType ?? '').toLowerCase();
  if (t.includes('ed25519')) return 'ed25519';
  if (t.includes('ecdsa')) return 'ecdsa';
  if (t.includes('rsa')) return 'rsa';
  if (t.includes('dss') || t.includes('dsa')) return 'dsa';
  return '<type>';
}

export function prettyKeyType(keyType: string | undefined): string {
  const t = hostKeyFileType(keyType);
  if (t === '<type>') return keyType ?? 'unknown';
  return `${t.toUpperCase()}${keyType && keyType.toLowerCase() !== t ? ` (${keyType})` : ''}`;
}
