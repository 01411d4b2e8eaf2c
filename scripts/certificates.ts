/**
 * Test certificates made with the machine's `openssl`: a certificate
 * authority and a server certificate it signed, for 127.0.0.1 and localhost.
 * For servers started by the tests with TLS (scripts/redis.ts).
 *
 * @module
 */
import { joinPath, readFile, spawnProcess, writeFile } from "../runtime/mod.ts";

/** The files {@link makeCertificates} wrote, and the CA's PEM for clients to trust. */
export interface Certificates {
  /** The CA certificate file. */
  caFile: string;
  /** The server certificate file (signed by the CA). */
  certFile: string;
  /** The server's private key file. */
  keyFile: string;
  /** The CA certificate as PEM text. */
  caPem: string;
}

async function openssl(args: string[]): Promise<void> {
  const child = spawnProcess("openssl", args, {
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const chunks: Uint8Array[] = [];
  for await (const chunk of child.stderr!) chunks.push(chunk);
  const { code } = await child.status;
  if (code !== 0) {
    const text = chunks.map((chunk) => new TextDecoder().decode(chunk)).join("");
    throw new Error(`openssl ${args[0]} failed (exit ${code}): ${text}`);
  }
}

/**
 * Write a CA and a server certificate for 127.0.0.1/localhost into `dir`
 * (EC P-256 keys, valid one day).
 *
 * @example
 * ```ts ignore
 * import { makeCertificates } from "./certificates.ts";
 *
 * const { caPem, certFile, keyFile } = await makeCertificates("/tmp/certs");
 * ```
 */
export async function makeCertificates(dir: string): Promise<Certificates> {
  const path = (name: string) => joinPath(dir, name);
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl([
    "req",
    "-x509",
    ...key,
    "-keyout",
    path("ca.key"),
    "-out",
    path("ca.crt"),
    "-days",
    "1",
    "-subj",
    "/CN=seastreamer test CA",
  ]);
  await openssl([
    "req",
    ...key,
    "-keyout",
    path("server.key"),
    "-out",
    path("server.csr"),
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await writeFile(
    path("server.ext"),
    new TextEncoder().encode(
      "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    ),
  );
  await openssl([
    "x509",
    "-req",
    "-in",
    path("server.csr"),
    "-CA",
    path("ca.crt"),
    "-CAkey",
    path("ca.key"),
    "-CAcreateserial",
    "-out",
    path("server.crt"),
    "-days",
    "1",
    "-extfile",
    path("server.ext"),
  ]);
  return {
    caFile: path("ca.crt"),
    certFile: path("server.crt"),
    keyFile: path("server.key"),
    caPem: new TextDecoder().decode(await readFile(path("ca.crt")) ?? new Uint8Array()),
  };
}
