/**
 * A NATS operator setup for the credentials-file tests, made with nkeys (the
 * client's `nkeys`): an operator, a system account, an account with
 * JetStream and a user, as JWTs (header `{"typ":"JWT","alg":"ed25519-nkey"}`,
 * claims signed by the issuer's nkey, as nats-server's jwt v2 decoder checks
 * them); a nats-server configuration that trusts the operator and preloads
 * the accounts (a memory resolver); the user's `.creds` file; and the
 * `.creds` of a user signed by an account the server does not know.
 *
 * @module
 */
import { nkeys } from "@nats-io/transport-node";
import { joinPath, writeFile } from "../../runtime/mod.ts";

type KeyPair = ReturnType<typeof nkeys.createUser>;

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

let serial = 0;

/** A JWT of `nats` claims about `subject`, issued and signed by `issuer`. */
function jwt(
  issuer: KeyPair,
  subject: string,
  name: string,
  nats: Record<string, unknown>,
): string {
  const header = base64url(encoder.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
  const claims = {
    jti: `seastreamer-test-${Date.now()}-${++serial}`,
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  const payload = base64url(encoder.encode(JSON.stringify(claims)));
  const signature = issuer.sign(encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(signature)}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1, leaf: -1 };

function accountJwt(operator: KeyPair, account: KeyPair, name: string, jetStream: boolean): string {
  const storage = jetStream
    ? { mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 }
    : { mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 };
  return jwt(operator, account.getPublicKey(), name, {
    type: "account",
    limits: { ...UNLIMITED, wildcards: true, ...storage },
    default_permissions: { pub: {}, sub: {} },
  });
}

/** A JWT of `user`, a member of `account`, allowed everything. */
function userJwt(account: KeyPair, user: KeyPair, name: string): string {
  return jwt(account, user.getPublicKey(), name, {
    type: "user",
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
}

/** The `.creds` text of `user` (its JWT and its seed), as nsc writes it. */
function creds(userJwt: string, user: KeyPair): string {
  const seed = new TextDecoder().decode(user.getSeed());
  return `-----BEGIN NATS USER JWT-----
${userJwt}
------END NATS USER JWT------

************************* IMPORTANT *************************
NKEY Seed printed below can be used to sign and prove identity.
NKEYs are sensitive and should be treated as secrets.

-----BEGIN USER NKEY SEED-----
${seed}
------END USER NKEY SEED------

*************************************************************
`;
}

/** What {@link operatorSetup} wrote. */
export interface OperatorSetup {
  /** A nats-server configuration file (`-c`) trusting the operator. */
  configFile: string;
  /** The `.creds` file of a user of the JetStream account. */
  credsFile: string;
  /** The user's seed (a secret: it must never be printed). */
  seed: string;
  /** The `.creds` file of a user whose account the server does not know. */
  strangerCredsFile: string;
  /** That user's seed. */
  strangerSeed: string;
}

/** Write an operator setup into `dir`. */
export async function operatorSetup(dir: string): Promise<OperatorSetup> {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = jwt(operator, operator.getPublicKey(), "seastreamer-test-operator", {
    type: "operator",
    system_account: system.getPublicKey(),
  });
  const systemJwt = accountJwt(operator, system, "SYS", false);
  const appJwt = accountJwt(operator, account, "APP", true);
  const stranger = nkeys.createUser();
  const userCreds = creds(userJwt(account, user, "app-user"), user);
  const strangerCreds = creds(userJwt(nkeys.createAccount(), stranger, "stranger"), stranger);
  const path = (name: string) => joinPath(dir, name);
  await writeFile(path("operator.jwt"), encoder.encode(operatorJwt));
  await writeFile(
    path("server.conf"),
    encoder.encode(`operator: "${path("operator.jwt")}"
system_account: ${system.getPublicKey()}
resolver: MEMORY
resolver_preload: {
  ${system.getPublicKey()}: "${systemJwt}"
  ${account.getPublicKey()}: "${appJwt}"
}
`),
  );
  await writeFile(path("app.creds"), encoder.encode(userCreds));
  await writeFile(path("stranger.creds"), encoder.encode(strangerCreds));
  return {
    configFile: path("server.conf"),
    credsFile: path("app.creds"),
    seed: new TextDecoder().decode(user.getSeed()),
    strangerCredsFile: path("stranger.creds"),
    strangerSeed: new TextDecoder().decode(stranger.getSeed()),
  };
}
