// Seed 004's `Authorization: Bearer <password>` plus a user name header, as the Basic credentials
// it stands for. Pure code.

/** `Basic ...` for a Bearer password plus user name header, or null when the request has no such pair. */
export function basicFromBearer(authorization: string | undefined, username: string | undefined): string | null {
  if (!authorization?.startsWith('Bearer ') || !username) return null;
  return 'Basic ' + Buffer.from(`${username}:${authorization.slice(7).trim()}`).toString('base64');
}
