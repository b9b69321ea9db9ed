// Who a CONNECT is: a HarperDB user, by (in order) the verified client certificate of an mTLS
// connection, the CONNECT's user name and password, or the HTTP credentials of a WebSocket
// upgrade; a client from localhost is the super user where HarperDB authorizes local clients; an
// anonymous client is refused where authentication is required.
import { server } from 'harperdb';
import type { HarperUser } from '../authorize.js';
import type { HarperSettings } from '../harper/settings.js';
import { ConnectRefused, type ConnectPacket } from './connect.js';
import type { WireSocket } from './socket.js';

const LOCAL = /^(127\.|::1$|::ffff:127\.)/;
const SUPER_USER_TTL_MS = 30_000;

export class Authenticator {
  private superUser: { user: HarperUser; until: number } | null = null;

  constructor(private readonly settings: HarperSettings) {}

  async authenticate(packet: ConnectPacket, socket: WireSocket): Promise<HarperUser | undefined> {
    const { mtls } = this.settings;
    if (mtls && mtls.user !== null) {
      const commonName = socket.verifiedCommonName();
      if (commonName) return this.user(mtls.user === undefined || mtls.user === 'Common Name' || mtls.user === 'CN' ? commonName : mtls.user, null);
    }
    if (packet.username) {
      const password = packet.password ? packet.password.toString('utf8') : '';
      return this.user(packet.username, password);
    }
    const fromHttp = await socket.httpUser?.();
    if (fromHttp) return fromHttp;
    if (this.settings.authorizeLocal && LOCAL.test(socket.remoteAddress)) return this.localUser();
    if (this.settings.requireAuthentication) throw new ConnectRefused(0x87, 'credentials are required');
    return undefined;
  }

  /** A HarperDB user; with a password, it must match. */
  private async user(username: string, password: string | null): Promise<HarperUser> {
    try {
      const user = (await server.getUser(username, password, undefined as never)) as HarperUser & { active?: boolean };
      if (!user?.role) throw new ConnectRefused(0x86, 'bad user name or password');
      return user;
    } catch (error) {
      if (error instanceof ConnectRefused) throw error;
      throw new ConnectRefused(0x86, 'bad user name or password');
    }
  }

  /** HarperDB's first super user, as HarperDB itself authorizes local clients. */
  private async localUser(): Promise<HarperUser> {
    if (this.superUser && this.superUser.until > Date.now()) return this.superUser.user;
    const users = (await server.operation({ operation: 'list_users' }, {}, false)) as Array<{ username: string; active?: boolean; role?: { permission?: { super_user?: boolean } } }>;
    const admin = users.find((user) => user.active !== false && user.role?.permission?.super_user === true);
    if (!admin) throw new ConnectRefused(0x87, 'no super user to authorize local clients as');
    const user = await this.user(admin.username, null);
    this.superUser = { user, until: Date.now() + SUPER_USER_TTL_MS };
    return user;
  }
}
