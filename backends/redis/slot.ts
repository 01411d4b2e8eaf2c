/**
 * Redis Cluster hash slots (CRC16/XMODEM of the key, or of its `{hash tag}`,
 * modulo 16384): keys of one XREAD/XREADGROUP must share a slot in a cluster.
 *
 * @module
 */

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** The hash slot of `key` (ASCII, as stream keys are). */
export function hashSlot(key: string): number {
  let start = 0;
  let end = key.length;
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key.charCodeAt(i)) & 0xff];
  }
  return crc % 16384;
}
